"""11.0.1.2.0: Google and Microsoft presets offer signing in (OAuth2).

The presets are noupdate data: an upgrade does not rewrite them, so link the
known ones to their sign-in provider here, unless an administrator already
chose one.
"""

LINKS = {
    'email_sync_provider_gmail': 'email_sync_oauth_app_google',
    'email_sync_provider_microsoft365': 'email_sync_oauth_app_microsoft',
    'email_sync_provider_outlook': 'email_sync_oauth_app_microsoft',
}


def migrate(cr, version):
    for preset, app in LINKS.items():
        cr.execute("""
            UPDATE email_sync_provider SET oauth_app_id = app.res_id
              FROM ir_model_data p, ir_model_data app
             WHERE p.module = 'email_crm_sync' AND p.name = %s AND p.model = 'email.sync.provider'
               AND app.module = 'email_crm_sync' AND app.name = %s
               AND app.model = 'email.sync.oauth.app'
               AND email_sync_provider.id = p.res_id AND email_sync_provider.oauth_app_id IS NULL
        """, (preset, app))
