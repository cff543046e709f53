"""No traceback in an error answer to a user.

Odoo 11 puts the Python traceback of any failed call in its answer: JSON-RPC
(``error.data.debug``, shown by the web client), the web client's export and
report routes, and XML-RPC faults. A traceback tells server paths, code and
sometimes values to whoever provoked the error. The answers here keep the
error's kind and message; the traceback stays in the server log, where Odoo
writes it already.
"""
import xmlrpc.client

import odoo.http
import odoo.service.wsgi_server as wsgi_server
from odoo.addons.web.controllers import main as web_main
from odoo.tools import ustr

_serialize_with_traceback = odoo.http.serialize_exception
_xmlrpc_int_with_traceback = wsgi_server.xmlrpc_handle_exception_int
_xmlrpc_string_with_traceback = wsgi_server.xmlrpc_handle_exception_string
_ODOO_ERRORS = (odoo.exceptions.UserError, odoo.exceptions.AccessDenied,
                odoo.exceptions.except_orm, odoo.exceptions.Warning)


def serialize_exception(exception):
    data = _serialize_with_traceback(exception)
    data['debug'] = ''
    return data


def _fault(exception, code):
    return xmlrpc.client.dumps(xmlrpc.client.Fault(
        code, '%s: %s' % (type(exception).__name__, ustr(exception))))


def xmlrpc_handle_exception_int(exception):
    if isinstance(exception, _ODOO_ERRORS):
        return _xmlrpc_int_with_traceback(exception)
    return _fault(exception, wsgi_server.RPC_FAULT_CODE_APPLICATION_ERROR)


def xmlrpc_handle_exception_string(exception):
    if isinstance(exception, _ODOO_ERRORS):
        return _xmlrpc_string_with_traceback(exception)
    return _fault(exception, ustr(exception))


odoo.http.serialize_exception = serialize_exception
web_main._serialize_exception = serialize_exception
wsgi_server.xmlrpc_handle_exception_int = xmlrpc_handle_exception_int
wsgi_server.xmlrpc_handle_exception_string = xmlrpc_handle_exception_string
