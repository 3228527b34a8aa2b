"""What a gallery or board page shows, read from its HTML as a browser reads it: the tiles'
ids in order, and where "load more" goes next (None on the last page)."""

import html
import re

TILE = re.compile(r'<li class="card-tile[^"]*" data-id="(\d+)"')
LOAD_MORE = re.compile(r'<li class="load-more" hx-get="([^"]+)"')


def tile_ids(response):
    return [int(pk) for pk in TILE.findall(response.content.decode())]


def load_more_url(response):
    found = LOAD_MORE.search(response.content.decode())
    return html.unescape(found.group(1)) if found else None
