"""The read-only JSON API at ``/api/v1/`` (README, "JSON API").

It lives in ``config`` beside the sitemaps for the same reason: it composes both apps
(letters and their answers, signatures and their counts) without being a third app with
models of its own. What it shows comes through the same rules as the pages — public
letters only, each name as its signatory chose (``signatories.exports.public_row``), counts
from the tallies — and it is cached, limited and answered in JSON here:

- ``views``: one read-only view per resource, each a fixed number of SQL queries;
- ``serializers``: the shape of every answer, which the OpenAPI schema is made from;
- ``paging``: pages of letters by number, of signatures by keyset cursor;
- ``limits``: the per-IP rate limit, counted before the page cache;
- ``errors``: JSON for every error on an API or ``.json`` URL.
"""
