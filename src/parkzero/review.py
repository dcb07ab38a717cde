"""The review lifecycle shared by inventories and product footprints: draft -> submitted -> verified -> final.

The owner submits and finalises (closes an inventory, publishes a footprint); a verifier of the park verifies or
sends back to draft, with a reason. `check_step` holds those rules once; each record type keeps its own table of
transitions and what its final step does.
"""

from __future__ import annotations

from collections.abc import Mapping

from parkzero.errors import Conflict, Forbidden, ValidationFailed
from parkzero.registry.scope import Scope

REVIEW_ACTIONS = ("verify", "reject")


def check_step(
    scope: Scope,
    action: str,
    transitions: Mapping[str, tuple[tuple[str, ...], str]],
    status: str | None,
    comment: str | None,
    what: str,
) -> str:
    """The status `action` leads to from `status` for `scope`, or the error that says why not.

    Parameters
    ----------
    transitions : mapping
        action -> (statuses it starts from, status it leads to).
    status : str or None
        The record's current status; None to check only the action and the role (before the record is read).
    what : str
        The record as a user names it ("inventory 12", "footprint 3"), for the messages.
    """
    if action not in transitions:
        raise ValidationFailed(f"unknown action {action!r}; one of {', '.join(transitions)}")
    sources, target = transitions[action]
    if action in REVIEW_ACTIONS:
        if not (scope.is_system or scope.role == "verifier"):
            raise Forbidden(f"only a verifier may {action} {what}")
        if action == "reject" and not comment:
            raise ValidationFailed(f"say why {what} goes back to draft")
    else:
        scope.require_write()
    if status is not None and status not in sources:
        raise Conflict(f"{what} is {status}; {action} needs {' or '.join(sources)}")
    return target
