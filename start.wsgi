# mod_wsgi entry point (WSGIScriptAlias). Touch this file to reload the application.
# The deployment's instance folder sits beside it; its config.py chooses the
# configuration (CONFIG = "postgres" / "mysql"), since Apache SetEnv never reaches
# os.environ. Without a choice the deployment runs "production".
from mypack.startup import deployment_instance, make_application

application = make_application(deployment_instance(__file__))
