"""The admin site: "Undersigned" in its header and title, and a home page that shows
moderators what needs doing (``config.dashboard``).

A site class rather than setting ``admin.site.site_header`` somewhere: the home page needs
its own context, and one class keeps the header, the title and the home together.
``UndersignedAdminConfig`` (``config/apps.py``) makes it the default site, so every
``@admin.register`` and ``admin.site`` in the project is this site.
"""

from django.contrib import admin

from config.dashboard import needs_doing


class UndersignedAdminSite(admin.AdminSite):
    site_header = "Undersigned"
    site_title = "Undersigned admin"
    index_title = "What needs doing"
    index_template = "admin/undersigned_index.html"
    # The sidebar of every model took 300 of the 1,280 px a list has on a laptop; the
    # home page and the breadcrumbs lead everywhere it did.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        context = {"needs_doing": needs_doing(request.user), **(extra_context or {})}
        return super().index(request, context)
