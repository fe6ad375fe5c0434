"""Wards and their calendars (declared days off and make-up working days)."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import i18n
from ...models import CalendarDay, Ward
from ...plugins import PluginRegistry
from .. import admin
from .columns import boolean, date, text
from .kinds import Context, Kind, refuse


class Wards(Kind):
    key = "wards"
    sheet = "Phường xã"
    columns = (
        text("code", "Mã phường", "2-10 chữ in hoa hoặc chữ số, bắt đầu bằng chữ "
             "(tiền tố số phiếu). Ví dụ: HCH", "HCH", max_len=10, required=True),
        text("name", "Tên", "Tên phường, xã. Ví dụ: Phường Hải Châu", "Phường Hải Châu",
             max_len=120, required=True),
        text("address", "Địa chỉ", "Địa chỉ trung tâm phục vụ hành chính công",
             "270 Trần Phú"),
        text("morning_start", "Sáng bắt đầu", "Giờ HH:MM. Ví dụ: 07:30", "07:30", max_len=5),
        text("morning_end", "Sáng kết thúc", "Giờ HH:MM. Ví dụ: 11:30", "11:30", max_len=5),
        text("afternoon_start", "Chiều bắt đầu", "Giờ HH:MM. Ví dụ: 13:30", "13:30", max_len=5),
        text("afternoon_end", "Chiều kết thúc", "Giờ HH:MM. Ví dụ: 17:00", "17:00", max_len=5),
        boolean("saturday_morning", "Làm sáng thứ Bảy", "có hoặc không", False),
        boolean("auto_assign", "Tự động phân công", "có hoặc không", False),
        boolean("active", "Hoạt động", "có hoặc không", True),
    )
    DEFAULT_TIMES = {"morning_start": "07:30", "morning_end": "11:30",
                     "afternoon_start": "13:30", "afternoon_end": "17:00"}

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return (values["code"].upper(),)

    def find(self, ctx: Context, values: dict[str, Any]) -> Ward | None:
        return ctx.wards.get(values["code"].upper())

    def _filled(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "code": values["code"].upper(),
                **{k: values[k] or v for k, v in self.DEFAULT_TIMES.items()}}

    def current(self, ctx: Context, ward: Ward) -> dict[str, Any]:
        return {c.key: getattr(ward, c.key) for c in self.columns}

    def same(self, ctx: Context, ward: Ward, values: dict[str, Any]) -> bool:
        return self.current(ctx, ward) == self._filled(values)

    def save(self, ctx: Context, ward: Ward | None, values: dict[str, Any]) -> Ward:
        ward = admin.save_ward(ctx.session, ward, **self._filled(values))
        ctx.wards[ward.code] = ward
        return ward

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        for ward in session.scalars(select(Ward).order_by(Ward.code)):
            yield {c.key: getattr(ward, c.key) for c in self.columns}


class Calendar(Kind):
    key = "calendar"
    sheet = "Lịch làm việc"
    columns = (
        text("ward", "Mã phường", "Để trống: áp dụng cho toàn thành phố. Ví dụ: HCH", "HCH",
             max_len=10),
        date("day", "Ngày", "dd/mm/yyyy. Ví dụ: 02/05/2026", "02/05/2026"),
        boolean("is_working", "Ngày làm việc", "có: ngày làm bù; không: ngày nghỉ", False),
        text("note", "Ghi chú", "Ví dụ: Nghỉ bù lễ 30/4", "Nghỉ bù lễ 30/4", max_len=200),
    )

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return (values["ward"].upper(), values["day"])

    def _days(self, ctx: Context) -> dict[tuple, CalendarDay]:
        if "days" not in ctx.cache:
            codes = {w.id: code for code, w in ctx.wards.items()}
            ctx.cache["days"] = {(codes.get(d.ward_id, ""), d.day): d
                                 for d in ctx.session.scalars(select(CalendarDay))}
        return ctx.cache["days"]

    def find(self, ctx: Context, values: dict[str, Any]) -> CalendarDay | None:
        ctx.ward(values["ward"], "ward", required=False)
        return self._days(ctx).get(self.natural_key(values))

    def current(self, ctx: Context, day: CalendarDay) -> dict[str, Any]:
        return {"ward": day.ward.code if day.ward else "", "day": day.day,
                "is_working": day.is_working, "note": day.note}

    def same(self, ctx: Context, day: CalendarDay, values: dict[str, Any]) -> bool:
        return self.current(ctx, day) == {**values, "ward": values["ward"].upper()}

    def save(self, ctx: Context, day: CalendarDay | None, values: dict[str, Any]) -> CalendarDay:
        if day is None:
            ward = ctx.ward(values["ward"], "ward", required=False)
            day = admin.add_calendar_day(ctx.session, ward, values["day"],
                                         values["is_working"], values["note"])
            self._days(ctx)[self.natural_key(values)] = day
            return day
        if len(values["note"]) > 200:  # the one rule add_calendar_day has for a change
            refuse("note", i18n.gettext("At most %(max)d characters.", max=200))
        day.is_working, day.note = values["is_working"], values["note"]
        ctx.session.flush()
        return day

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        query = select(CalendarDay).outerjoin(Ward, CalendarDay.ward_id == Ward.id) \
            .order_by(Ward.code.nulls_first(), CalendarDay.day)
        for day in session.scalars(query):
            yield {"ward": day.ward.code if day.ward else "", "day": day.day,
                   "is_working": day.is_working, "note": day.note}
