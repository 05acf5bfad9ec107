"""The API's request parsing: webargs reads JSON bodies with mypack.bodies' strict
loader, the same parsed body every other part of a request sees. An operation that
takes a body documents it as required, so a request without one is a 400, not an
empty change."""

from __future__ import annotations

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest

from mypack.bodies import json_body


class ApiParser(FlaskParser):
    """webargs' parser for Flask, reading JSON bodies with :func:`json_body`."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if not req.content_length:
                raise BadRequest("Send a JSON body (Content-Type: application/json).")
            return core.missing
        return json_body()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with :class:`ApiParser`: every API resource's."""

    ARGUMENTS_PARSER = ApiParser()
