"""Users and gateway API keys: the park operator manages them; everyone may change their own password."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.errors import NotFound
from parkzero.registry import users
from parkzero.registry.scope import ROLES

router = APIRouter(tags=["users"])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(description=f"At least {users.MIN_PASSWORD} characters")
    role: str = Field(description=f"One of {', '.join(ROLES)}")
    park: str | None = Field(None, description="Park code (default: the operator's own park)")
    enterprise: str | None = Field(None, description="Enterprise code, required for role 'enterprise'")
    display_name: str | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    role: str
    park_id: int | None
    enterprise_id: int | None
    display_name: str | None
    active: bool
    created_at: datetime


class UserList(BaseModel):
    data: list[UserPublic]
    count: int


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(description=f"The new password, at least {users.MIN_PASSWORD} characters")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="What the key is for, e.g. the gateway's name")
    park: str = Field(description="Park whose readings the key may write")
    enterprise: str | None = Field(None, description="Limit the key to this tenant's channels")


class ApiKeyCreated(BaseModel):
    key: str = Field(description="The key, shown only now; send it as the X-API-Key header")
    name: str
    prefix: str = Field(description="Public part of the key, used to revoke it")
    park: str
    enterprise: str | None


@router.get("/users", response_model=UserList, operation_id="list_users")
def list_users(store: StoreDep, scope: CurrentScope) -> dict:
    """Users of the operator's park."""
    found = users.list_users(store, scope)
    return {"data": found, "count": len(found)}


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, operation_id="create_user")
def create_user(body: UserCreate, store: StoreDep, scope: CurrentScope) -> dict:
    return users.create_user(
        store,
        scope,
        body.username,
        body.password,
        body.role,
        park_code=body.park,
        enterprise_code=body.enterprise,
        display_name=body.display_name,
    )


@router.post(
    "/users/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="set_password",
)
def set_password(username: str, body: PasswordChange, store: StoreDep, scope: CurrentScope) -> Response:
    """Change a password: your own, or (operators) that of a user of your park."""
    if scope.role == "operator" and scope.park_id is not None and scope.actor != username:
        target = users.get_user(store, username)
        if target["park_id"] != scope.park_id:
            raise NotFound(f"no user {username!r}")
    users.set_password(store, scope, username, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED, operation_id="create_api_key"
)
def create_api_key(body: ApiKeyCreate, store: StoreDep, scope: CurrentScope) -> dict:
    """Create a gateway key; the key itself is in this response only (the store keeps its hash)."""
    key, record = users.create_api_key(store, scope, body.name, body.park, body.enterprise)
    return {"key": key, **record}


@router.delete(
    "/api-keys/{prefix}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="revoke_api_key",
)
def revoke_api_key(prefix: str, store: StoreDep, scope: CurrentScope) -> Response:
    users.revoke_api_key(store, scope, prefix)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
