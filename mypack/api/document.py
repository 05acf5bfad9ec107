"""The API's flask-smorest ``Api``: the OpenAPI document every resource is written into.

Error answers stay mypack.errors' (one shape, and HTML pages for the rest of the
site); the document says so: the ``default`` and 422 responses of every operation are
mypack's ``{"error": {...}}``, not flask-smorest's own error schema, which mypack
never sends.
"""

from __future__ import annotations

from mypack.api.schemas import ErrorResponse
from mypack.libraries import ApiWithoutErrorHandlers


class MypackApi(ApiWithoutErrorHandlers):
    ERROR_SCHEMA = ErrorResponse


api = MypackApi()
