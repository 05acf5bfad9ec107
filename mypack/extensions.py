"""Extension objects, created unbound so any module can import them without cycles."""

from typing import TYPE_CHECKING

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from mypack.database import Base

# Objects keep what they hold after a commit: a request reads its user and its rows
# once, instead of reloading each from the database after every commit (a session
# lives for one request; a service that needs the database's state refreshes).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
# The base class of every model. Flask-SQLAlchemy makes db.Model at run time (Base with
# a table name from the class name); a type checker sees the Base it derives from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
# Per-client counters; RATELIMIT_STORAGE_URI says where they live (memory for one
# process, a shared store such as Redis when several processes serve).
limiter = Limiter(key_func=get_remote_address)
# Anonymous answers of the public menu (mypack/menu/cache.py); CACHE_TYPE says where
# they live (per process by default, or a shared store such as Redis).
cache = Cache()
