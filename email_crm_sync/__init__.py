# The Odoo layer (models, controllers) is loaded only when Odoo imports this
# addon as ``odoo.addons.email_crm_sync``. Importing ``email_crm_sync.lib``
# directly (its unit tests, benchmarks) then needs no Odoo at all.
if __name__.startswith('odoo.addons.'):
    from . import controllers, models
