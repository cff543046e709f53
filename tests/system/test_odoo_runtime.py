"""Odoo 11.0 really runs on CPython 3.11 with the addon: both server modes
serve the web client, answer RPC, and run scheduled actions."""
import datetime
import re
import time
import urllib.request
import http.cookiejar

import pytest

from devenv import odoo as odoo_env

from ..conftest import OdooRpc

CRON_CODE = (
    "count = int(env['ir.config_parameter'].sudo().get_param('ecs_test.cron_runs', '0'))\n"
    "env['ir.config_parameter'].sudo().set_param('ecs_test.cron_runs', str(count + 1))\n"
)


def schedule_probe_cron(rpc):
    model_id = rpc('ir.model', 'search', [('model', '=', 'ir.config_parameter')])[0]
    now = datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S')
    return rpc('ir.cron', 'create', {
        'name': 'Test probe', 'model_id': model_id, 'state': 'code', 'code': CRON_CODE,
        'interval_number': 1, 'interval_type': 'minutes', 'numbercall': -1, 'nextcall': now,
    })


def cron_runs(rpc):
    return int(rpc('ir.config_parameter', 'get_param', 'ecs_test.cron_runs', '0'))


def fetch(opener, url):
    with opener.open(url, timeout=60) as answer:
        return answer.status, answer.read()


def check_web_client(server):
    """Log in through the login form and load the backend with its asset bundles."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    status, page = fetch(opener, server.url + '/web/login')
    assert status == 200
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({'login': 'admin', 'password': 'admin', 'csrf_token': csrf})
    with opener.open(server.url + '/web/login', data=form.encode(), timeout=60) as answer:
        # Odoo 11 answers a good login with a page whose script goes to /web.
        assert b"window.location = '/web'" in answer.read()
    status, backend = fetch(opener, server.url + '/web')
    assert status == 200 and b'odoo.session_info' in backend
    bundles = re.findall(rb'/web/content/[^"]+\.(?:css|js)', backend)
    assert any(b.endswith(b'web.assets_backend.js') for b in bundles)
    for bundle in bundles:
        status, body = fetch(opener, server.url + bundle.decode())
        assert status == 200 and len(body) > 1000, bundle
        # A LESS or QWeb compile failure is served as a small error stylesheet/script.
        assert b'Could not execute command' not in body and b'lessc' not in body[:2000], bundle
    # The client-side templates, concatenated by the server (ElementTree).
    status, templates = fetch(opener, server.url + '/web/webclient/qweb?mods=web,mail,email_crm_sync')
    assert status == 200 and templates.startswith(b'<templates') and b't-name="FormView' in templates
    return backend


@pytest.mark.parametrize('workers', [0, 2], ids=['threaded', 'prefork'])
def test_server_serves_web_client_rpc_and_addon(odoo_config, clone_db, workers):
    with odoo_env.OdooServer(odoo_config, clone_db(), workers=workers) as server:
        check_web_client(server)
        rpc = OdooRpc(server.url, server.db_name, 'admin', 'admin')
        state = rpc('ir.module.module', 'search_read', [('name', '=', 'email_crm_sync')], ['state'])
        assert state[0]['state'] == 'installed'
        assert rpc('ir.module.module', 'search_count', [('state', 'in', ['to install', 'to upgrade'])]) == 0
        assert rpc('email.sync.provider', 'search_count', []) >= 26


def test_scheduled_actions_fire_in_both_server_modes(odoo_config, clone_db):
    """Odoo's cron runners poll every minute or so: both servers wait together."""
    servers = [odoo_env.OdooServer(odoo_config, clone_db(), workers=w) for w in (0, 2)]
    try:
        rpcs = []
        for server in servers:
            server.start()
            rpc = OdooRpc(server.url, server.db_name, 'admin', 'admin')
            schedule_probe_cron(rpc)
            rpcs.append(rpc)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not all(cron_runs(r) for r in rpcs):
            time.sleep(2)
        assert [cron_runs(r) >= 1 for r in rpcs] == [True, True], 'a cron job never ran'
    finally:
        for server in servers:
            server.stop()
