"""Routes for readings (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["readings"])
