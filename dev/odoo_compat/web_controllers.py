"""``Element.getchildren()`` is gone from ``xml.etree.ElementTree`` (3.9).

The web client's templates are concatenated by ``concat_xml`` in
``odoo.addons.web.controllers.main``, which parses them with the standard
library's ElementTree and walks ``root.getchildren()``: without it
``/web/webclient/qweb`` answers 500 and the backend stays blank. That module
is given an ElementTree whose parsed elements still have the method.
(lxml, used everywhere else in Odoo, still has it.)
"""
import types
from xml.etree import ElementTree


class _Element(ElementTree.Element):
    def getchildren(self):
        return list(self)


def _parse(source, parser=None):
    if parser is None:
        parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(element_factory=_Element))
    return ElementTree.parse(source, parser)


def patch(module):
    shim = types.ModuleType('ElementTree')
    shim.__dict__.update(vars(ElementTree))
    shim.parse = _parse
    module.ElementTree = shim
