from . import error_answers
from . import main
from . import oauth
