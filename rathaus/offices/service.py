"""The catalogue's operations: offices, services, bundles, hours and closures."""

from rathaus.offices._barriers import list_barrier_reports, report_barrier
from rathaus.offices._closures import add_closure, check_closure_window, list_closures, remove_closure
from rathaus.offices._export import dump_toml, edit_office, import_office, office_config, replace_office
from rathaus.offices._load import LoadReport, load_config
from rathaus.offices._lookup import office_count, office_ids, office_timezone
from rathaus.offices._releases import due_releases, record_release
from rathaus.offices.catalog import BundleRule, Catalog, CatalogSnapshot, closure_rule, office_of, resolve_services

__all__ = [
    "BundleRule",
    "Catalog",
    "CatalogSnapshot",
    "LoadReport",
    "add_closure",
    "check_closure_window",
    "closure_rule",
    "due_releases",
    "dump_toml",
    "edit_office",
    "import_office",
    "list_barrier_reports",
    "list_closures",
    "load_config",
    "office_config",
    "office_count",
    "office_ids",
    "office_of",
    "office_timezone",
    "record_release",
    "remove_closure",
    "replace_office",
    "report_barrier",
    "resolve_services",
]
