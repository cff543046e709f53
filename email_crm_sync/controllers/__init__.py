# Public HTTP routes of the addon (tracking pixel, click redirect) go here.
