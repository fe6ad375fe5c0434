"""The health checks of printers and scanners: IPP, SNMP (Printer-MIB) and eSCL."""

from helpdesk_core import HealthCheckType, translator

from . import forms
from .escl import check_escl
from .ipp import check_ipp
from .snmp import check_snmp_printer, check_snmp_printer_async

_l = translator(__name__).lazy_gettext

CATEGORY = "printer"

CHECK_TYPES = [
    HealthCheckType("ipp", _l("Printer status over IPP (state, paper, toner)"), CATEGORY,
                    run_async=check_ipp, config_form=forms.IppCheckForm, default_interval=300),
    HealthCheckType("snmp_printer", _l("Printer status over SNMP (Printer-MIB)"), CATEGORY,
                    run=check_snmp_printer, run_async=check_snmp_printer_async,
                    config_form=forms.SnmpPrinterCheckForm,
                    default_interval=300),
    HealthCheckType("escl", _l("Network scanner status (eSCL / AirScan)"), CATEGORY,
                    run_async=check_escl, config_form=forms.EsclCheckForm, default_interval=300),
]

__all__ = ["CHECK_TYPES", "check_escl", "check_ipp", "check_snmp_printer",
           "check_snmp_printer_async"]
