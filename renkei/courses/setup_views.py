"""The organiser's screens to set a course up: the course, its rounds and their sessions.

Each form feeds the same typed input to the same action as the API (`lib.forms.submit`);
a refusal lands beside its field with the input kept. Deleting asks first on its own page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from renkei.accounts.http import MemberRequest, member_required
from renkei.courses import access, actions
from renkei.courses.forms import (
    CourseForm,
    NewRoundForm,
    RoundForm,
    SessionForm,
    course_values,
    round_values,
    session_values,
)
from renkei.courses.models import Course, CourseRound
from renkei.lib.actions import ActionError
from renkei.lib.forms import refuse, submit

I = TypeVar("I", bound=pydantic.BaseModel)  # noqa: E741
R = TypeVar("R")


def _form_page(
    request: MemberRequest,
    form: forms.Form,
    model: type[I],
    action: Callable[[I], R],
    *,
    heading: str,
    back: tuple[str, str],
    done: tuple[str, Callable[[R], str]],
    button: str = "保存する",
) -> HttpResponse:
    """GET shows the form; POST runs the action and goes on, or shows the refusal (its status)."""
    status = 200
    if request.method == "POST":
        result = submit(form, model, action)
        if result.done and result.result is not None:
            message, next_url = done
            messages.success(request, message)
            return redirect(next_url(result.result))
        status = result.status
    return render(
        request,
        "courses/setup_form.html",
        {"form": form, "heading": heading, "back": back, "button": button},
        status=status,
    )


def _delete_page(
    request: MemberRequest,
    action: Callable[[], Any],
    *,
    what: str,
    consequence: str,
    back: tuple[str, str],
    next_url: str,
) -> HttpResponse:
    """GET asks for confirmation; POST deletes, or says why not (its status)."""
    status = 200
    if request.method == "POST":
        try:
            action()
        except ActionError as e:
            status = refuse(request, None, e)
        else:
            messages.success(request, f"{what}を削除しました。")
            return redirect(next_url)
    return render(
        request,
        "courses/confirm_delete.html",
        {"what": what, "consequence": consequence, "back": back},
        status=status,
    )


def _manage_url(course: Course) -> str:
    return reverse("courses:manage_course", args=[course.code])


def _round_url(rnd: CourseRound) -> str:
    return reverse("courses:manage_round", args=[rnd.course.code, rnd.number])


def _course_back(course: Course) -> tuple[str, str]:
    return course.title, _manage_url(course)


def _round_back(rnd: CourseRound) -> tuple[str, str]:
    return f"{rnd.course.title} {rnd.label}", _round_url(rnd)


# --- the course ----------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def course_new(request: MemberRequest) -> HttpResponse:
    form = CourseForm(request.POST) if request.method == "POST" else CourseForm()
    return _form_page(
        request,
        form,
        actions.CourseInput,
        lambda data: actions.create_course(data, by=request.membership, request=request),
        heading="新しい研修コース",
        back=("研修コースの管理", reverse("courses:manage")),
        done=("研修コースを作成しました。続けて回と日程を登録してください。", _manage_url),
        button="作成する",
    )


@member_required
@require_http_methods(["GET", "POST"])
def course_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    course = access.own_course(request.membership, code)
    form = (
        CourseForm(request.POST)
        if request.method == "POST"
        else CourseForm(initial=course_values(course))
    )
    return _form_page(
        request,
        form,
        actions.CourseSettingsInput,
        lambda data: actions.update_course(course, data, by=request.membership, request=request),
        heading=f"{course.title}の設定",
        back=_course_back(course),
        done=("研修コースを保存しました。", _manage_url),
    )


@member_required
@require_http_methods(["GET", "POST"])
def course_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    course = access.own_course(request.membership, code)
    return _delete_page(
        request,
        lambda: actions.delete_course(course, by=request.membership, request=request),
        what=f"研修コース「{course.title}」",
        consequence="すべての回と日程も削除されます。申込のある研修は削除できません。",
        back=_course_back(course),
        next_url=reverse("courses:manage"),
    )


# --- its rounds ----------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def round_new(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    course = access.own_course(request.membership, code)
    if request.method == "POST":
        form = NewRoundForm(request.POST)
    else:
        form = NewRoundForm(initial={"number": course.rounds.count() + 1})
    return _form_page(
        request,
        form,
        actions.RoundInput,
        lambda data: actions.create_round(course, data, by=request.membership, request=request),
        heading=f"{course.title}に回を追加",
        back=_course_back(course),
        done=(
            "回を追加しました。2日目以降の日程は「日程を追加」から登録してください。",
            _round_url,
        ),
        button="追加する",
    )


@member_required
@require_http_methods(["GET", "POST"])
def round_edit(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    form = (
        RoundForm(request.POST)
        if request.method == "POST"
        else RoundForm(initial=round_values(rnd))
    )

    def save(data: actions.RoundSettingsInput) -> CourseRound:
        saved, promoted = actions.update_round(rnd, data, by=request.membership, request=request)
        if promoted:
            messages.info(
                request,
                f"定員の変更により、キャンセル待ちの{len(promoted)}名を参加確定にしました。",
            )
        return saved

    return _form_page(
        request,
        form,
        actions.RoundSettingsInput,
        save,
        heading=f"{rnd.course.title} {rnd.label}の設定",
        back=_round_back(rnd),
        done=("回を保存しました。", _round_url),
    )


@member_required
@require_http_methods(["GET", "POST"])
def round_delete(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    return _delete_page(
        request,
        lambda: actions.delete_round(rnd, by=request.membership, request=request),
        what=f"{rnd.course.title} {rnd.label}",
        consequence="この回の日程もすべて削除されます。申込のある回は削除できません。",
        back=_round_back(rnd),
        next_url=_manage_url(rnd.course),
    )


# --- their sessions ------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def session_new(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    form = SessionForm(request.POST) if request.method == "POST" else SessionForm()
    return _form_page(
        request,
        form,
        actions.SessionInput,
        lambda data: actions.add_session(rnd, data, by=request.membership, request=request),
        heading=f"{rnd.course.title} {rnd.label}に日程を追加",
        back=_round_back(rnd),
        done=("日程を追加しました。", lambda _: _round_url(rnd)),
        button="追加する",
    )


@member_required
@require_http_methods(["GET", "POST"])
def session_edit(
    request: MemberRequest, code: uuid.UUID, number: int, session: uuid.UUID
) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    day = access.own_session(rnd, session)
    form = (
        SessionForm(request.POST)
        if request.method == "POST"
        else SessionForm(initial=session_values(day))
    )
    return _form_page(
        request,
        form,
        actions.SessionInput,
        lambda data: actions.update_session(day, data, by=request.membership, request=request),
        heading=f"日程の変更（{day.label}）",
        back=_round_back(rnd),
        done=(
            "日程を保存しました。日時・会場を変えた場合は、申込者にメールでお知らせします。",
            lambda _: _round_url(rnd),
        ),
    )


@member_required
@require_http_methods(["GET", "POST"])
def session_delete(
    request: MemberRequest, code: uuid.UUID, number: int, session: uuid.UUID
) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    day = access.own_session(rnd, session)
    return _delete_page(
        request,
        lambda: actions.delete_session(day, by=request.membership, request=request),
        what=f"日程（{day.label}）",
        consequence="出席を記録済みの日程は削除できません。",
        back=_round_back(rnd),
        next_url=_round_url(rnd),
    )
