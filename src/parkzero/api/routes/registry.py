"""Routes for registry (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
