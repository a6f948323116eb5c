"""The district's PDF review copy: the paper as it prints, marked 审核稿 on every page without changing its
layout, for reviewers only; a 503 in Chinese without LibreOffice."""

from __future__ import annotations

import io
import shutil

import pytest
from flask import Flask
from pypdf import PdfReader

from tests.test_web import client_of
from tests.webapp import make_app, make_instance

PDF = "/projects/dongqu-01/review/plan/document.pdf"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(*make_instance(tmp_path_factory.mktemp("review-pdf")))


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
def test_the_review_copy_is_the_paper_with_a_mark_on_every_page(app: Flask) -> None:
    district = client_of(app, "dongqu")
    assert "下载PDF审核稿" in district.get("/projects/dongqu-01/review").get_data(as_text=True)
    r = district.get(PDF)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "filename*=UTF-8''%E5%AE%A1%E6%A0%B8%E7%A8%BF-" in r.headers["Content-Disposition"]  # 审核稿-
    copy = PdfReader(io.BytesIO(r.data))
    plain = client_of(app, "bcg").get("/projects/dongqu-01/documents/plan?format=pdf")
    paper = PdfReader(io.BytesIO(plain.data))
    assert len(copy.pages) == len(paper.pages)  # the mark lies under the pages: none added, none moved
    for marked, original in zip(copy.pages, paper.pages, strict=True):
        text = marked.extract_text()
        assert "审核稿 · 改造方案 · 东区于" in text and "仅供审核，不作正式文书" in text
        assert original.extract_text().split("\n")[:3] == [
            line for line in text.split("\n") if "审核稿" not in line][:3]


def test_the_review_copy_is_for_reviewers_only(app: Flask) -> None:
    r = client_of(app, "bcg").get(PDF)
    assert r.status_code == 403 and "审核稿只供县（区）、市级审核人员查阅" in r.get_data(as_text=True)
    assert client_of(app, "renhe").get(PDF).status_code == 404  # another street office's community
    assert client_of(app, "dongqu").get("/projects/dongqu-01/review/budget/document.pdf").status_code == 404


def test_without_libreoffice_the_review_copy_is_a_503_in_chinese(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.output.pdf.soffice", lambda: None)
    r = client_of(app, "dongqu").get(PDF)
    assert r.status_code == 503 and "服务器未安装 LibreOffice，暂不能生成 PDF" in r.get_data(as_text=True)
