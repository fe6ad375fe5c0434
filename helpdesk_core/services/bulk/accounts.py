"""Accounts and students' placements in wards.

A new account gets no password: its owner sets one through a one-time link
(services/password_links.py), never from a file.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import i18n
from ...models import Batch, Role, StudentAssignment, University, User, Ward
from ...plugins import PluginRegistry
from .. import admin, users
from .columns import boolean, choice, date, text
from .kinds import Context, Kind, refuse

ROLES = {Role.STAFF: "cán bộ", Role.STUDENT: "sinh viên", Role.COORDINATOR: "điều phối",
         Role.ADMIN: "quản trị"}
LOCALES = {"vi": "vi", "en": "en"}


class Accounts(Kind):
    key = "accounts"
    sheet = "Tài khoản"
    columns = (
        text("login", "Tên đăng nhập", "3-80 chữ thường, chữ số, dấu chấm, gạch. "
             "Ví dụ: hch.nguyenvana", "hch.nguyenvana", max_len=80, required=True),
        text("name", "Họ và tên", "Ví dụ: Nguyễn Văn A", "Nguyễn Văn A", max_len=120,
             required=True),
        choice("role", "Vai trò", "cán bộ, sinh viên, điều phối hoặc quản trị", ROLES, None),
        text("ward", "Mã phường", "Bắt buộc với cán bộ. Ví dụ: HCH", "HCH", max_len=10),
        text("email", "E-mail", "Ví dụ: nva@danang.gov.vn", "nva@danang.gov.vn", max_len=120),
        text("phone", "Điện thoại", "Ví dụ: 0905 123 456", "0905 123 456", max_len=20),
        choice("locale", "Ngôn ngữ", "vi hoặc en", LOCALES, "vi"),
        boolean("active", "Hoạt động", "có hoặc không", True),
    )

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return (values["login"].lower(),)

    def find(self, ctx: Context, values: dict[str, Any]) -> User | None:
        return ctx.users.get(values["login"].lower())

    def current(self, ctx: Context, user: User) -> dict[str, Any]:
        return {"login": user.login, "name": user.name, "role": user.role,
                "ward": user.ward.code if user.ward else "", "email": user.email,
                "phone": user.phone, "locale": user.locale, "active": user.active}

    def same(self, ctx: Context, user: User, values: dict[str, Any]) -> bool:
        wanted = {**values, "login": values["login"].lower(), "ward": values["ward"].upper()
                  if values["role"] == Role.STAFF else ""}
        return self.current(ctx, user) == wanted

    def save(self, ctx: Context, user: User | None, values: dict[str, Any]) -> User:
        ward = ctx.ward(values["ward"], "ward", required=False)
        if user is None:
            user = users.create_user(ctx.session, login=values["login"], name=values["name"],
                                     password=None, role=values["role"], ward=ward,
                                     locale=values["locale"])
            user.active = values["active"]
            ctx.new_accounts.append(user)
            ctx.users[user.login] = user
        else:
            admin.update_user(ctx.session, user, name=values["name"], role=values["role"],
                              ward=ward, locale=values["locale"], active=values["active"],
                              email=user.email)
        users.update_contact(user, phone=values["phone"], email=values["email"])
        ctx.session.flush()
        return user

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        query = select(User).options(joinedload(User.ward)).order_by(User.login)
        for user in session.scalars(query):
            yield self.current(None, user)  # type: ignore[arg-type]


class Placements(Kind):
    key = "placements"
    sheet = "Phân công sinh viên"
    fields = {"student": "login"}
    columns = (
        text("login", "Tên đăng nhập sinh viên", "Tài khoản có vai trò sinh viên. "
             "Ví dụ: sv.tranthib", "sv.tranthib", max_len=80, required=True),
        text("ward", "Mã phường", "Ví dụ: HCH", "HCH", max_len=10, required=True),
        text("university", "Trường", "Ví dụ: Đại học Duy Tân", "Đại học Duy Tân",
             max_len=120, required=True),
        date("starts_on", "Từ ngày", "dd/mm/yyyy. Ví dụ: 02/03/2026", "02/03/2026"),
        date("ends_on", "Đến ngày", "dd/mm/yyyy. Ví dụ: 30/05/2026", "30/05/2026"),
        boolean("on_duty", "Đang trực", "có hoặc không", True),
        text("batch", "Đợt", "Tên một đợt đã có (để trống: không thuộc đợt nào). "
             "Ví dụ: Đợt 1 – 2026", "Đợt 1 – 2026", max_len=120),
    )

    def natural_key(self, values: dict[str, Any]) -> tuple:
        return (values["login"].lower(), values["ward"].upper(), values["starts_on"])

    def _placements(self, ctx: Context) -> dict[tuple, StudentAssignment]:
        if "placements" not in ctx.cache:
            query = select(StudentAssignment).options(joinedload(StudentAssignment.student),
                                                      joinedload(StudentAssignment.ward))
            ctx.cache["placements"] = {(a.student.login, a.ward.code, a.starts_on): a
                                       for a in ctx.session.scalars(query)}
        return ctx.cache["placements"]

    def _student(self, ctx: Context, login: str) -> User:
        student = ctx.users.get(login.lower())
        if student is None:
            refuse("login", i18n.gettext("No account has the login %(login)s.", login=login))
        return student

    def find(self, ctx: Context, values: dict[str, Any]) -> StudentAssignment | None:
        return self._placements(ctx).get(self.natural_key(values))

    def current(self, ctx: Context, placement: StudentAssignment) -> dict[str, Any]:
        return {"login": placement.student.login, "ward": placement.ward.code,
                "university": placement.university, "starts_on": placement.starts_on,
                "ends_on": placement.ends_on, "on_duty": placement.on_duty,
                "batch": placement.batch.name if placement.batch else ""}

    def _batch(self, ctx: Context, name: str) -> Batch | None:
        """The batch named *name* (None for an empty cell); refused when unknown."""
        if not name:
            return None
        if "batches" not in ctx.cache:
            ctx.cache["batches"] = {b.name: b for b in ctx.session.scalars(select(Batch))}
        batch = ctx.cache["batches"].get(name)
        if batch is None:
            refuse("batch", i18n.gettext("No batch is named %(name)s.", name=name))
        return batch

    def _university(self, ctx: Context, name: str) -> University | None:
        """The university of that name, when one is registered (else the name alone)."""
        if "universities" not in ctx.cache:
            ctx.cache["universities"] = {u.name: u for u in ctx.session.scalars(
                select(University))}
        return ctx.cache["universities"].get(name)

    def same(self, ctx: Context, placement: StudentAssignment, values: dict[str, Any]) -> bool:
        return self.current(ctx, placement) == {**values, "login": values["login"].lower(),
                                                "ward": values["ward"].upper()}

    def save(self, ctx: Context, placement: StudentAssignment | None,
             values: dict[str, Any]) -> StudentAssignment:
        student = self._student(ctx, values["login"])
        ward = ctx.ward(values["ward"], "ward")
        placement = admin.save_assignment(
            ctx.session, placement, student=student, ward=ward,
            university=values["university"], starts_on=values["starts_on"],
            ends_on=values["ends_on"], on_duty=values["on_duty"],
            batch=self._batch(ctx, values.get("batch") or ""),
            university_org=self._university(ctx, values["university"]))
        self._placements(ctx)[self.natural_key(values)] = placement
        return placement

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        query = (select(StudentAssignment).join(User, StudentAssignment.student_id == User.id)
                 .join(Ward, StudentAssignment.ward_id == Ward.id)
                 .options(joinedload(StudentAssignment.student),
                          joinedload(StudentAssignment.ward), joinedload(StudentAssignment.batch))
                 .order_by(User.login, Ward.code, StudentAssignment.starts_on))
        for placement in session.scalars(query):
            yield self.current(None, placement)  # type: ignore[arg-type]
