"""The front page."""

from flask import Blueprint, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """The café's welcome page."""
    return render_template("home.html")
