"""The studio: server-rendered pages of the workspace's runs, pipelines, logs, metrics and data.

Pages are Jinja2 templates from ``templates/`` (:mod:`.templating`), styled and scripted by the
files under ``static/`` (served at ``/studio/static/``; browser libraries vendored from npm under
``static/vendor/``, listed in ``static/vendor/VENDORED.md``). Each ``pages_*`` module holds one
router, included by :data:`headwater.server.app.ROUTERS`; the data comes from the query modules
``headwater.ops.studio_*``.
"""
