"""Flask extensions, created unbound and attached in the app factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from helpdesk_core.models import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])  # storage: RATELIMIT_STORAGE_URI
