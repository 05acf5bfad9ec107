"""The API's resources, one module each; BLUEPRINTS lists what init_app mounts."""

from mypack.api.resources import docs as docs_resource
from mypack.api.resources import items as items_resource
from mypack.api.resources import me
from mypack.api.resources import orders as orders_resource
from mypack.api.resources import suppliers as suppliers_resource
from mypack.api.resources import tokens as tokens_resource
from mypack.api.resources import users as users_resource

BLUEPRINTS = [me.blp]
BLUEPRINTS += [items_resource.blp, suppliers_resource.blp, orders_resource.blp]
BLUEPRINTS += [tokens_resource.blp, users_resource.blp]
BLUEPRINTS += [docs_resource.blp]  # the HTML reference: not in the OpenAPI document
