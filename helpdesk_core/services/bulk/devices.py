"""Devices (assets) and their health checks.

A device is found by its serial number within its ward, or by its name when it has no
serial. A check is found by its device and check type; its settings are validated by the
check type's own form, as on the administration page (admin.validate_check_config).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ... import i18n
from ...errors import ValidationFailed
from ...models import Asset, AssetCheck, Criticality, Ward
from ...plugins import PluginRegistry
from .. import admin
from ..incident_rules import SERVICES
from .columns import CellError, Column, boolean, choice, number, text
from .kinds import Context, Kind, refuse

# Shared services (city-wide incidents): written as their keys.
SERVICE_KEYS = {key: key for key in SERVICES}
CRITICALITY = {Criticality.LOW: "thấp", Criticality.NORMAL: "bình thường",
               Criticality.HIGH: "cao", Criticality.CRITICAL: "nghiêm trọng"}


def _device_key(ward_code: str, serial: str, name: str) -> tuple:
    return (ward_code.upper(), "serial", serial) if serial else (
        ward_code.upper(), "name", name.casefold())


def _assets(ctx: Context) -> dict[tuple, Asset]:
    """Every device by (ward code, serial) and by (ward code, name)."""
    if "assets" not in ctx.cache:
        found: dict[tuple, Asset] = {}
        query = select(Asset).options(joinedload(Asset.ward), joinedload(Asset.depends_on),
                                      selectinload(Asset.checks))
        for asset in ctx.session.scalars(query):
            _remember(found, asset)
        ctx.cache["assets"] = found
    return ctx.cache["assets"]


def _remember(found: dict[tuple, Asset], asset: Asset) -> None:
    code = asset.ward.code if asset.ward else ""
    if asset.serial:
        found[(code, "serial", asset.serial)] = asset
    found.setdefault((code, "name", asset.name.casefold()), asset)


class Devices(Kind):
    key = "devices"
    sheet = "Thiết bị"
    columns = (
        text("ward", "Mã phường", "Để trống: dịch vụ chung của thành phố. Ví dụ: HCH",
             "HCH", max_len=10),
        text("name", "Tên thiết bị", "Ví dụ: Máy in quầy 1", "Máy in quầy 1", max_len=120,
             required=True),
        text("category", "Nhóm", "Mã nhóm của plugin, ví dụ: printer, network", "printer",
             max_len=40, required=True),
        text("kind", "Loại", "Ví dụ: máy in laser", "máy in laser", max_len=40, required=True),
        text("location", "Vị trí", "Ví dụ: Quầy 1", "Quầy 1", max_len=120),
        text("vendor", "Hãng", "Ví dụ: HP", "HP", max_len=80),
        text("model", "Model", "Ví dụ: LaserJet M404", "LaserJet M404", max_len=80),
        text("serial", "Số serial", "Khóa của thiết bị trong phường. Ví dụ: VNB3K12345",
             "VNB3K12345", max_len=80),
        text("address", "Địa chỉ mạng", "Tên máy, máy:cổng hoặc URL. Ví dụ: 10.0.1.20",
             "10.0.1.20"),
        choice("criticality", "Mức quan trọng", "thấp, bình thường, cao hoặc nghiêm trọng",
               CRITICALITY, Criticality.NORMAL, "bình thường"),
        choice("service_key", "Dịch vụ chung",
               "Sự cố chung toàn thành phố: để trống, hoặc dvcqg (Cổng DVC quốc gia), vneid, "
               "sso, motcua (một cửa điện tử). Ví dụ: dvcqg", SERVICE_KEYS, "", "dvcqg"),
        boolean("active", "Hoạt động", "có hoặc không", True),
        text("depends_on", "Nằm sau thiết bị", "Số serial hoặc tên của thiết bị cùng phường "
             "mà thiết bị này nằm sau (bộ định tuyến), ở dòng trên hoặc đã có. Để trống: "
             "không có. Ví dụ: Router tầng 1", "", max_len=120),
    )

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return _device_key(values["ward"], values["serial"], values["name"])

    @staticmethod
    def _upstream_ref(asset: Asset) -> str:
        upstream = asset.depends_on
        return (upstream.serial or upstream.name) if upstream is not None else ""

    def _upstream(self, ctx: Context, values: dict[str, Any]) -> Asset | None:
        ref = values.get("depends_on") or ""
        if not ref:
            return None
        found = _assets(ctx)
        upstream = found.get(_device_key(values["ward"], ref, "")) \
            or found.get(_device_key(values["ward"], "", ref))
        if upstream is None:
            refuse("depends_on", i18n.gettext("No device of this ward has this serial number "
                                              "or name."))
        return upstream

    def find(self, ctx: Context, values: dict[str, Any]) -> Asset | None:
        ctx.ward(values["ward"], "ward", required=False)
        return _assets(ctx).get(self.natural_key(values))

    def current(self, ctx: Context, asset: Asset) -> dict[str, Any]:
        return {"ward": asset.ward.code if asset.ward else "",
                **{c.key: getattr(asset, c.key) for c in self.columns[1:-1]},
                "depends_on": self._upstream_ref(asset)}

    def same(self, ctx: Context, asset: Asset, values: dict[str, Any]) -> bool:
        return self.current(ctx, asset) == {**values, "ward": values["ward"].upper()}

    def save(self, ctx: Context, asset: Asset | None, values: dict[str, Any]) -> Asset:
        ward = ctx.ward(values["ward"], "ward", required=False)
        fields = {k: v for k, v in values.items() if k not in ("ward", "depends_on")}
        new = asset is None
        asset = admin.save_asset(ctx.session, ctx.registry, asset, ward=ward, flush=False,
                                 depends_on=self._upstream(ctx, values), **fields)
        if new:  # it has no checks yet: adding one must not query for them
            set_committed_value(asset, "checks", [])
        _remember(_assets(ctx), asset)
        return asset

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        query = (select(Asset).outerjoin(Ward, Asset.ward_id == Ward.id)
                 .options(joinedload(Asset.ward), joinedload(Asset.depends_on))
                 .order_by(Ward.code.nulls_first(), Asset.name, Asset.id))
        for asset in session.scalars(query):
            yield self.current(None, asset)  # type: ignore[arg-type]


def _settings(text_value: str) -> dict[str, Any]:
    if not text_value:
        return {}
    try:
        value = json.loads(text_value)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise CellError(i18n.gettext('Write the settings as JSON, e.g. {"port": 80}.'))
    return value


def _show_settings(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


class Checks(Kind):
    key = "checks"
    sheet = "Kiểm tra"
    columns = (
        text("ward", "Mã phường", "Phường của thiết bị; để trống: dịch vụ chung. Ví dụ: HCH",
             "HCH", max_len=10),
        text("device", "Thiết bị", "Số serial của thiết bị, hoặc tên khi không có serial. "
             "Ví dụ: VNB3K12345", "VNB3K12345", max_len=120, required=True),
        text("check_type", "Kiểu kiểm tra", "Mã kiểu kiểm tra của plugin. Ví dụ: tcp", "tcp",
             max_len=40, required=True),
        Column("config", "Cài đặt", "Cài đặt của kiểu kiểm tra, dạng JSON. "
               'Ví dụ: {"port": 9100}', '{"port": 9100}', parse=_settings,
               show=_show_settings),
        number("interval_seconds", "Chu kỳ (giây)", "10-86400. Ví dụ: 300", "300",
               default=300),
        number("timeout_seconds", "Chờ tối đa (giây)", "0,5-120. Ví dụ: 5", "5", kind=float,
               default=5.0),
        number("failure_threshold", "Ngưỡng lỗi", "1-20 lần liên tiếp. Ví dụ: 3", "3",
               default=3),
        number("recovery_threshold", "Ngưỡng phục hồi", "1-20 lần liên tiếp. Ví dụ: 2", "2",
               default=2),
        boolean("enabled", "Bật", "có hoặc không", True),
    )

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return (values["ward"].upper(), values["device"], values["check_type"])

    def column_of(self, field_name: str) -> str:
        """The settings form's own fields (``port``...) are in the settings column."""
        known = any(c.key == field_name for c in self.columns)
        return field_name if known else "config"

    def _asset(self, ctx: Context, values: dict[str, Any]) -> Asset:
        ctx.ward(values["ward"], "ward", required=False)
        found = _assets(ctx)
        asset = found.get(_device_key(values["ward"], values["device"], "")) \
            or found.get(_device_key(values["ward"], "", values["device"]))
        if asset is None:
            refuse("device", i18n.gettext("No device of this ward has this serial number "
                                          "or name."))
        return asset

    def find(self, ctx: Context, values: dict[str, Any]) -> AssetCheck | None:
        asset = self._asset(ctx, values)
        return next((c for c in asset.checks if c.check_type == values["check_type"]), None)

    def current(self, ctx: Context, check: AssetCheck) -> dict[str, Any]:
        asset = check.asset
        return {"ward": asset.ward.code if asset.ward else "",
                "device": asset.serial or asset.name,
                **{c.key: getattr(check, c.key) for c in self.columns[2:]}}

    def same(self, ctx: Context, check: AssetCheck, values: dict[str, Any]) -> bool:
        try:
            config = admin.validate_check_config(ctx.registry, values["check_type"],
                                                 values["config"])
        except ValidationFailed:
            return False
        mine = {k: v for k, v in self.current(ctx, check).items() if k not in ("ward", "device")}
        theirs = {k: v for k, v in values.items() if k not in ("ward", "device")}
        return mine == {**theirs, "config": config}

    def save(self, ctx: Context, check: AssetCheck | None, values: dict[str, Any]) -> AssetCheck:
        asset = self._asset(ctx, values)
        fields = {k: v for k, v in values.items() if k not in ("ward", "device")}
        return admin.save_check(ctx.session, ctx.registry, check, asset=asset, flush=False,
                                **fields)

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        query = (select(AssetCheck).join(Asset, AssetCheck.asset_id == Asset.id)
                 .outerjoin(Ward, Asset.ward_id == Ward.id)
                 .options(joinedload(AssetCheck.asset).joinedload(Asset.ward))
                 .order_by(Ward.code.nulls_first(), Asset.name, Asset.id, AssetCheck.id))
        for check in session.scalars(query):
            yield self.current(None, check)  # type: ignore[arg-type]
