"""Routes for users (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["users"])
