"""Photos in the papers: where they are placed, how large, with which caption, and what a
missing or unusable photo gives."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from generator.data.loader import DataSet, load
from generator.documents.kinds import KINDS, community_target
from generator.documents.photos import SITUATION_PHOTOS, before_after, pair
from generator.documents.report import report_path
from generator.errors import DataError
from generator.output.pipeline import Renderers, Result, Selection, build, build_reports, render_document
from generator.render import pictures
from generator.render.images import EMU_PER_MM
from generator.render.pictures import PRINT_DPI, TYPE_WIDTH_MM, PhotoTable
from generator.rules.checks import check_all
from tests.helpers import DataDir, good_project

DOCUMENT = "word/document.xml"
EXTENT = re.compile(r'<wp:extent cx="(\d+)" cy="(\d+)"/>')
EMBED = re.compile(r'r:embed="(rIdGaizaoPic[0-9a-f]{16})"')
PILOT = ("dongqu-01", "dongqu-02", "xiqu-03", "xiqu-04", "renhe-05", "renhe-06", "yanbian-07",
         "miyi-08", "fantai-09")


def parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def pictures_in(docx: bytes) -> tuple[list[tuple[int, int]], dict[str, bytes]]:
    """The printed sizes (EMU) of the document's pictures, and its media files by name."""
    found = parts(docx)
    xml = found[DOCUMENT].decode("utf-8")
    # Photos only: the reports' charts are PNG pictures of their own (tests/test_charts.py).
    media = {name: blob for name, blob in found.items()
             if name.startswith("word/media/") and name.endswith(".jpeg")}
    photos = [m for m in re.finditer(r"<wp:inline.*?</wp:inline>", xml) if '.jpeg"' in m.group(0)]
    return [(int(cx), int(cy)) for p in photos for cx, cy in EXTENT.findall(p.group(0))], media


def assert_package_whole(docx: bytes) -> None:
    """Every picture the document refers to is in the package, related and typed."""
    found = parts(docx)
    xml = found[DOCUMENT].decode("utf-8")
    rels = found["word/_rels/document.xml.rels"].decode("utf-8")
    assert 'Extension="jpeg" ContentType="image/jpeg"' in found["[Content_Types].xml"].decode("utf-8")
    for rid in set(EMBED.findall(xml)):
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels)
        assert target is not None, rid
        assert f"word/{target.group(1)}" in found
    ids = re.findall(r'<wp:docPr id="(\d+)"', xml)
    assert len(ids) == len(set(ids))


def document(out: Path, data: DataSet, community: str, kind: str) -> bytes:
    return (out / KINDS[kind].where(data, community_target(data, community))).read_bytes()


# ---------------------------------------------------------------- the bundled papers


def test_bundled_pilot_papers_carry_their_photos(full_build: Result, bundled: DataSet) -> None:
    for community in PILOT:
        project = bundled.projects[community]
        situation = [p for p in project.photos if p.kind == "现状"]
        completed = {p.item for p in project.photos if p.kind == "完工"}
        per_item = [line.item for line in project.items if line.item in completed]
        assert situation and per_item, community
        for kind, expected in (("application", min(len(situation), SITUATION_PHOTOS)),
                               ("plan", min(len(situation), SITUATION_PHOTOS)),
                               ("acceptance", len(per_item))):
            docx = document(full_build.out, bundled, community, kind)
            sizes, media = pictures_in(docx)
            assert len(sizes) == expected, (community, kind)
            assert len(media) == expected
            assert_package_whole(docx)
            text = parts(docx)[DOCUMENT].decode("utf-8")
            assert "照片缺失" not in text
            shown = situation[:SITUATION_PHOTOS] if kind != "acceptance" else [
                p for p in project.photos if p.kind == "完工" and p.item in per_item]
            for photo in shown:
                assert photo.caption in text, (community, kind, photo.caption)
        # A paper without photos carries none.
        assert pictures_in(document(full_build.out, bundled, community, "notice"))[1] == {}


def test_pictures_fit_their_cells_keep_their_aspect_and_print_at_180_dpi(
        full_build: Result, bundled: DataSet) -> None:
    docx = document(full_build.out, bundled, "renhe-05", "plan")
    sizes, media = pictures_in(docx)
    cell_mm = TYPE_WIDTH_MM / 2 - 4
    for (cx, cy), blob in zip(sizes, media.values(), strict=True):
        width_mm, height_mm = cx / EMU_PER_MM, cy / EMU_PER_MM
        assert width_mm <= cell_mm + 0.01 and width_mm <= TYPE_WIDTH_MM
        assert height_mm <= cell_mm * 0.75 + 0.01
        with Image.open(io.BytesIO(blob)) as image:
            assert image.format == "JPEG"
            # the drawn photos are 4:3, and so is their printed box
            assert abs(image.width / image.height - cx / cy) < 0.01
            dpi = image.width / (width_mm / 25.4)
            assert PRINT_DPI - 2 <= dpi <= PRINT_DPI + 2
    # re-encoded, a photo is far smaller than the 1200×900 original
    original = (bundled.photo_folder("renhe-05") / "before-1.jpg").stat().st_size
    assert max(len(b) for b in media.values()) < original / 2


def test_reports_show_before_and_after_pairs(reports_build: Result, bundled: DataSet) -> None:
    city = (reports_build.out / report_path(bundled, 2018, None)).read_bytes()
    sizes, media = pictures_in(city)
    assert len(sizes) == 2 * len(PILOT)
    assert_package_whole(city)
    text = parts(city)[DOCUMENT].decode("utf-8")
    assert text.count(">改造前：") == text.count(">改造后：") == len(PILOT)  # captions, not alt texts
    assert "炳草岗园林苗圃小区（东区）" in text
    for cx, _ in sizes:
        assert cx / EMU_PER_MM <= TYPE_WIDTH_MM / 2
    district = (reports_build.out / report_path(bundled, 2018, "仁和区")).read_bytes()
    assert len(pictures_in(district)[0]) == 4  # its two pilot projects, a pair each


def test_every_bundled_pair_shows_one_item_before_and_after(bundled: DataSet) -> None:
    table = before_after(bundled, (bundled.projects[c] for c in PILOT))
    assert len(table.rows) == len(PILOT)
    for community, heading, (before, after) in zip(PILOT, table.headings, table.rows, strict=True):
        item, first, second = pair(bundled.projects[community])
        assert first is not None and second is not None and first.item == second.item == item, community
        assert heading.endswith(f"：{item}")  # the item once, above the pair, not again in a caption
        assert f"{item}：" not in before.caption + after.caption and "改造完成" not in after.caption
        assert before.caption == f"改造前：{first.caption}" and after.caption == f"改造后：{second.caption}"
        assert before.date and after.date and before.path and after.path


def test_a_project_without_a_pair_shows_its_photo_alone_and_says_so(tmp_path: Path) -> None:
    # a 现状 photo of 供水 and a 完工 photo of 道路: no item has both
    photos = [{**PHOTOS[1], "item": "供水"}, PHOTOS[2]]
    data = load(folder_with_photos(tmp_path / "data", photos).root)
    project = data.projects["dongqu-01"]
    assert pair(project)[0] == "供水"
    [(before, after)] = before_after(data, [project]).rows
    assert before.path is not None and after.path is None
    assert after.missing == "暂无供水改造后照片" and not after.caption
    # with a 现状 photo of 道路 too, 道路 is paired though 供水 comes first in the photos
    photos = [{**PHOTOS[1], "item": "供水"}, {**PHOTOS[0], "item": "道路"}, PHOTOS[2]]
    data = load(folder_with_photos(tmp_path / "paired", photos).root)
    table = before_after(data, [data.projects["dongqu-01"]])
    [(before, after)] = table.rows
    assert table.headings[0].endswith("：道路") and before.caption == "改造前：道路破损积水"
    assert after.caption == "改造后：新铺沥青路面"
    # only a 完工 photo: it stands on the right, the left box says what is missing
    data = load(folder_with_photos(tmp_path / "after", PHOTOS[2:]).root)
    [(before, after)] = before_after(data, [data.projects["dongqu-01"]]).rows
    assert before.path is None and before.missing == "暂无道路改造前照片" and after.path is not None


def test_the_city_words_the_photo_labels_its_own_way(tmp_path: Path) -> None:
    """改造前：, 改造后： and 暂无××照片 are wording keys: a city's own templates/wording.yaml
    changes them in the report, the other labels staying as built in."""
    root = folder_with_photos(tmp_path / "data", PHOTOS[2:]).root  # a 完工 photo of 道路 only
    wording_file = root / "templates" / "wording.yaml"
    wording_file.parent.mkdir(parents=True, exist_ok=True)
    wording_file.write_text('photo.missing_before: "{{ item or \'本项目\' }}改造前未拍照"\n'
                            'photo.after: "完工后（{{ caption }}）"\n', encoding="utf-8")
    data = load(root)
    table = before_after(data, [data.projects["dongqu-01"]])
    [(before, after)] = table.rows
    assert before.missing == "道路改造前未拍照"
    assert after.caption == f"完工后（{PHOTOS[2]['caption']}）"
    assert table.headings[0] == "炳草岗园林苗圃小区（东区）：道路"  # not reworded: as built in


def test_rebuilding_the_photo_papers_gives_identical_bytes(
        tmp_path: Path, full_build: Result, reports_build: Result, bundled: DataSet,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A second build with an empty cache re-encodes every photo and gets the same bytes."""
    monkeypatch.setenv("GAIZAO_CACHE", str(tmp_path / "fresh-cache"))
    pictures.printable.cache_clear()
    again = build(bundled, tmp_path / "out", Selection(kinds=("application", "plan", "acceptance"), year=2018))
    reports = build_reports(bundled, tmp_path / "out", ("pilot-report",), 2018)
    compared = 0
    for rel in [*again.paths, *reports.paths]:
        name = str(rel.relative_to(tmp_path / "out"))
        first = full_build.out / name if (full_build.out / name).exists() else reports_build.out / name
        assert rel.read_bytes() == first.read_bytes(), name
        compared += 1
    assert compared >= 3 * len(PILOT)
    assert len(list((tmp_path / "fresh-cache" / "photos").glob("*.jpg"))) >= len(PILOT) * 4


# ---------------------------------------------------------------- data folders a test writes


def photo_file(path: Path, size: tuple[int, int] = (800, 600), orientation: int | None = None) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    shade = zlib.crc32(path.name.encode("utf-8")) % 200  # each file its own picture
    image = Image.new("RGB", size, (shade, 160, 200))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path.read_bytes()


PHOTOS = [
    {"file": "现状-1.jpg", "caption": "道路破损积水", "kind": "现状"},
    {"file": "现状-2.jpg", "caption": "供水管锈蚀", "kind": "现状", "date": "2018-03-01"},
    {"file": "完工-1.jpg", "caption": "新铺沥青路面", "kind": "完工", "item": "道路"},
]


def folder_with_photos(root: Path, photos: list[dict[str, str]] = PHOTOS) -> DataDir:
    dd = DataDir(root)
    project = good_project()
    project["photos"] = [dict(p) for p in photos]
    text = dd.write("projects/dongqu-01.yaml", project).read_text(encoding="utf-8")
    # dates as YAML dates, not quoted text
    dd.path("projects/dongqu-01.yaml").write_text(text.replace("'2018-03-01'", "2018-03-01"), encoding="utf-8")
    for photo in photos:
        photo_file(dd.path(f"photos/dongqu-01/{photo['file']}"))
    return dd


def render(data: DataSet, kind: str) -> bytes:
    return render_document(data, KINDS[kind], community_target(data, "dongqu-01"), Renderers(data, None))


def photo_findings(data: DataSet) -> list[tuple[str, str]]:
    return [(f.severity, f.message) for f in check_all(data) if f.rule == "PHOTO-FILES"]


def test_a_missing_photo_gives_a_warning_and_a_placeholder_box_with_its_caption(tmp_path: Path) -> None:
    dd = folder_with_photos(tmp_path / "data")
    (dd.path("photos/dongqu-01/现状-2.jpg")).unlink()
    data = load(dd.root)
    [(severity, message)] = photo_findings(data)
    assert severity == "warning"
    assert "现状-2.jpg 不存在" in message and "照片缺失" in message
    docx = render(data, "plan")
    sizes, media = pictures_in(docx)
    assert len(sizes) == len(media) == 1
    text = parts(docx)[DOCUMENT].decode("utf-8")
    placeholder = text[text.index("照片缺失") - 2000:text.index("照片缺失")]
    assert 'w:val="dashed"' in placeholder  # a box the size of the photo, not a broken picture
    # its caption still stands under it, the date on a line of its own so it never splits
    assert re.search(r"供水管锈蚀</w:t></w:r><w:r><w:br/></w:r><w:r><w:rPr>.{0,300}?（2018年3月1日）", text)
    assert_package_whole(docx)


def test_a_file_that_is_not_an_image_is_an_error_and_prints_as_a_placeholder(tmp_path: Path) -> None:
    dd = folder_with_photos(tmp_path / "data")
    dd.path("photos/dongqu-01/现状-1.jpg").write_bytes(b"not a photo at all")
    data = load(dd.root)
    [(severity, message)] = photo_findings(data)
    assert severity == "error" and "不是可以打开的图片" in message
    text = parts(render(data, "application"))[DOCUMENT].decode("utf-8")
    assert "照片缺失" in text and "道路破损积水" in text


def test_photo_paths_stay_inside_the_photo_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.jpg"
    photo_file(outside)
    for bad in ("../secret.jpg", "/etc/passwd", "a/../../secret.jpg", "C:/x.jpg", "sub\\x.jpg"):
        dd = folder_with_photos(tmp_path / f"d{abs(hash(bad))}")
        dd.replace("projects/dongqu-01.yaml", "现状-1.jpg", bad)
        with pytest.raises(DataError) as caught:
            load(dd.root)
        assert "照片文件须写成照片文件夹内的相对路径" in str(caught.value)
    dd = folder_with_photos(tmp_path / "linked")
    link = dd.path("photos/dongqu-01/现状-1.jpg")
    link.unlink()
    link.symlink_to(outside)
    data = load(dd.root)
    [(severity, message)] = photo_findings(data)
    assert severity == "error" and "链接到照片文件夹" in message
    text = parts(render(data, "plan"))[DOCUMENT].decode("utf-8")
    assert text.count("<pic:pic") == 1 and "照片缺失" in text


def test_a_photo_of_an_unknown_item_is_an_error(tmp_path: Path) -> None:
    photos = [*PHOTOS[:2], {**PHOTOS[2], "item": "空中花园"}]
    data = load(folder_with_photos(tmp_path / "data", photos).root)
    [(severity, message)] = photo_findings(data)
    assert severity == "error" and "空中花园" in message


def test_exif_orientation_is_honoured_and_the_original_left_alone(tmp_path: Path) -> None:
    dd = folder_with_photos(tmp_path / "data")
    # Taken holding the camera upright: stored 800×600, to be shown turned, 600 wide 800 high.
    original = photo_file(dd.path("photos/dongqu-01/现状-1.jpg"), orientation=6)
    data = load(dd.root)
    sizes, media = pictures_in(render(data, "plan"))
    (cx, cy), _ = sizes
    assert cy > cx and abs(cx / cy - 600 / 800) < 0.01
    assert dd.path("photos/dongqu-01/现状-1.jpg").read_bytes() == original
    with Image.open(io.BytesIO(next(iter(media.values())))) as image:
        assert image.height > image.width
        assert not image.getexif().get(0x0112)


def test_the_acceptance_record_shows_the_completed_photo_of_its_item(tmp_path: Path) -> None:
    data = load(folder_with_photos(tmp_path / "data").root)
    docx = render(data, "acceptance")
    sizes, _ = pictures_in(docx)
    assert len(sizes) == 1
    text = parts(docx)[DOCUMENT].decode("utf-8")
    assert "五、改造后照片" in text and "2. 道路：新铺沥青路面" in text
    # a caption that names its item first does not get it twice
    named = [*PHOTOS[:2], {**PHOTOS[2], "caption": "道路改造完成：新铺沥青路面"}]
    text = parts(render(load(folder_with_photos(tmp_path / "named", named).root), "acceptance"))[DOCUMENT]
    assert "2. 道路改造完成：新铺沥青路面" in text.decode("utf-8") and "道路：道路" not in text.decode("utf-8")
    # no photos, no heading
    bare = load(folder_with_photos(tmp_path / "bare", PHOTOS[:2]).root)
    assert "改造后照片" not in parts(render(bare, "acceptance"))[DOCUMENT].decode("utf-8")


def test_too_many_pixels_are_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dd = folder_with_photos(tmp_path / "data")
    monkeypatch.setattr(pictures, "MAX_PIXELS", 100_000)
    found = photo_findings(load(dd.root))
    assert len(found) == len(PHOTOS)
    assert all(severity == "error" and "800×600 像素" in message for severity, message in found)


def test_a_photo_folder_that_is_a_link_out_of_the_data_folder_is_not_followed(tmp_path: Path) -> None:
    dd = folder_with_photos(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    dd.path("photos/dongqu-01").rename(elsewhere)
    dd.path("photos/dongqu-01").symlink_to(elsewhere, target_is_directory=True)
    found = photo_findings(load(dd.root))
    assert len(found) == len(PHOTOS)
    assert all(severity == "error" and "数据文件夹以外" in message for severity, message in found)


def test_a_decompression_bomb_gets_a_chinese_message(tmp_path: Path) -> None:
    # A small PNG whose header claims 30000×30000 pixels: Pillow refuses it itself, in English, before our check.
    import struct

    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG")
    png = bytearray(out.getvalue())
    png[16:24] = struct.pack(">II", 30000, 30000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    with pytest.raises(pictures.PhotoError) as caught:
        pictures.open_image(bytes(png), "照片 x.png")
    assert str(caught.value) == "照片 x.png 像素过多（超过 60 百万像素），已拒绝；请缩小后再用"


def test_bound_print_files_carry_the_photos(tmp_path: Path) -> None:
    from generator.output.printing import Binder

    data = load(folder_with_photos(tmp_path / "data").root)
    renderers = Renderers(data, None)
    binder = Binder(renderers.docx(renderers.locate(KINDS["plan"], "东区")))
    context = KINDS["plan"].context(data, community_target(data, "dongqu-01"))
    binder.add(context)
    binder.add(context)
    rows = [(str(n), "炳草岗园林苗圃小区", "东区", "2018", "") for n in (1, 2)]
    bound = binder.finish("改造方案", rows, "共2份")
    sizes, media = pictures_in(bound)
    assert len(sizes) == 4 and len(media) == 2  # the same two photos twice, stored once
    assert_package_whole(bound)


def test_the_table_says_what_it_shows_for_the_data_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    photo_file(path)
    table = PhotoTable(((pictures.Cell(path, "说明"),),))
    assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] in str(table)
    assert table.count == 1 and table and not PhotoTable(())


def test_the_data_docs_state_the_number_of_situation_photos() -> None:
    from generator.data.datadoc import render_data_doc

    assert f"印前 {SITUATION_PHOTOS} 张现状照片" in render_data_doc()


# ---------------------------------------------------------------- uploaded in the web app


def _upload_photo(client: Any, community: str, payload: bytes, **fields: str) -> Any:
    from tests.webapp import csrf

    token = csrf(client, f"/projects/{community}")
    form = {"csrf_token": token, "photo": (io.BytesIO(payload), "IMG_0001.JPG"), "caption": "楼道粉刷完成",
            "kind": "完工", **fields}
    return client.post(f"/projects/{community}/photos", data=form, content_type="multipart/form-data")


def test_a_photo_uploaded_on_the_project_page_is_stored_listed_and_audited(tmp_path: Path) -> None:
    from generator.web.audit import AuditLog
    from tests.webapp import login, make_app, make_instance

    data_dir, instance = make_instance(tmp_path)
    client = make_app(data_dir, instance).test_client()
    login(client, "renhe")
    raw = photo_file(tmp_path / "phone.jpg", (1600, 1200), orientation=6)
    r = _upload_photo(client, "renhe-24", raw, date="2019-10-08")
    assert r.status_code == 303, r.get_data(as_text=True)
    stored = list((data_dir / "photos" / "renhe-24").glob("after-*.jpg"))
    assert len(stored) == 1 and stored[0].read_bytes() == raw  # kept as it came
    text = (data_dir / "projects" / "renhe-24.yaml").read_text(encoding="utf-8")
    assert f"file: {stored[0].name}" in text and "楼道粉刷完成" in text and "2019-10-08" in text
    page = client.get("/projects/renhe-24").get_data(as_text=True)
    assert "楼道粉刷完成" in page and stored[0].name in page
    event = AuditLog(instance).events("renhe-24")[-1]
    assert event.detail == "照片 IMG_0001.JPG" and "楼道粉刷完成" in event.changes[0].after
    assert not [f for f in check_all(load(data_dir)) if f.rule == "PHOTO-FILES" and "renhe-24" in f.where]


def test_an_upload_that_is_not_a_photo_changes_nothing(tmp_path: Path) -> None:
    from tests.webapp import login, make_app, make_instance

    data_dir, instance = make_instance(tmp_path)
    client = make_app(data_dir, instance).test_client()
    login(client, "renhe")
    before = (data_dir / "projects" / "renhe-24.yaml").read_bytes()
    for payload, fields, says in ((b"<html>not a photo</html>", {}, "不是可以打开的图片"),
                                  (photo_file(tmp_path / "ok.jpg"), {"caption": ""}, "请填写照片说明"),
                                  (photo_file(tmp_path / "ok.jpg"), {"kind": "别的"}, "请选择照片类别"),
                                  (photo_file(tmp_path / "ok.jpg"), {"date": "2019-13-01"}, "拍摄日期应为日期")):
        r = _upload_photo(client, "renhe-24", payload, **fields)
        assert r.status_code == 422 and says in r.get_data(as_text=True), says
    assert (data_dir / "projects" / "renhe-24.yaml").read_bytes() == before
    assert not (data_dir / "photos" / "renhe-24").exists()
    # without the form's token nothing is accepted
    r = client.post("/projects/renhe-24/photos", data={"photo": (io.BytesIO(b"x"), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code in (400, 403)


def test_a_phone_sized_photo_passes_the_upload_limit_and_a_huge_one_does_not(tmp_path: Path) -> None:
    import os

    from generator.web.photos import MAX_PHOTO_UPLOAD
    from tests.webapp import login, make_app, make_instance

    data_dir, instance = make_instance(tmp_path)
    client = make_app(data_dir, instance).test_client()
    login(client, "renhe")
    noise = Image.frombytes("RGB", (1500, 1200), os.urandom(1500 * 1200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert out.tell() > 4 * 1024 * 1024  # more than a workbook upload may be
    assert _upload_photo(client, "renhe-24", out.getvalue()).status_code == 303
    assert list((data_dir / "photos" / "renhe-24").glob("after-*.png"))
    r = _upload_photo(client, "renhe-24", b"\xff\xd8" + b"\0" * MAX_PHOTO_UPLOAD)
    assert r.status_code == 413


def test_photos_that_are_all_there_give_no_finding(tmp_path: Path) -> None:
    assert photo_findings(load(folder_with_photos(tmp_path / "data").root)) == []


def test_the_applications_photos_are_its_last_attachment_on_a_page_of_their_own(tmp_path: Path) -> None:
    """Placed in the body, a row of photos too tall for what is left of page 1 left half of it blank."""
    data = load(folder_with_photos(tmp_path / "data").root)
    text = parts(render(data, "application"))[DOCUMENT].decode("utf-8")
    body, _, attachment = text.partition("<w:pageBreakBefore/>")
    assert "<pic:pic" not in body and attachment.count("<pic:pic") == 2
    listed = re.findall(r"<w:t[^>]*>(?:附件：|　　　)(\d+)\.([^<]*)</w:t>", body)
    assert listed[-1] == (str(len(listed)), "小区现状照片") and len(listed) >= 2
    assert f">附件{len(listed)}</w:t>" in attachment and ">小区现状照片</w:t>" in attachment
    # no 现状 photos: neither listed nor a page
    bare = load(folder_with_photos(tmp_path / "bare", PHOTOS[2:]).root)
    text = parts(render(bare, "application"))[DOCUMENT].decode("utf-8")
    assert "小区现状照片" not in text and "<w:pageBreakBefore/>" not in text


def test_every_printed_pair_shows_one_item(reports_build: Result, bundled: DataSet) -> None:
    """Read back from the built reports: under each heading, the before and the after photo are
    photos of the item the heading names."""
    import docx

    by_name = {bundled.communities[c].name: bundled.projects[c] for c in PILOT}
    pairs = 0
    for rel in [report_path(bundled, 2018, None), *(report_path(bundled, 2018, d) for d in bundled.districts)]:
        document = docx.Document(str(reports_build.out / rel))
        for table in document.tables:
            rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
            for heading, captions in zip(rows, rows[1:], strict=False):
                found = re.fullmatch(r"(.+)（.+）：(.+)", heading[0])
                if not found or not captions[0].startswith("改造前："):
                    continue
                project, item = by_name[found.group(1)], found.group(2)
                before = captions[0].removeprefix("改造前：").split("\n")[0]
                after = captions[1].removeprefix("改造后：").split("\n")[0]
                shown = {p.caption: p for p in project.photos}
                assert shown[before].kind == "现状" and shown[after].kind == "完工", heading
                assert shown[before].item == shown[after].item == item, heading
                pairs += 1
    assert pairs == 2 * len(PILOT)  # each pair in the city's report and in its district's


def test_the_plans_photos_are_its_attachment_on_a_page_of_their_own(tmp_path: Path) -> None:
    """As in the application: the photos row in the body pushed the item table off a half-empty page 1."""
    data = load(folder_with_photos(tmp_path / "data").root)
    text = parts(render(data, "plan"))[DOCUMENT].decode("utf-8")
    body, _, attachment = text.partition("<w:pageBreakBefore/>")
    assert "<pic:pic" not in body and attachment.count("<pic:pic") == 2
    assert ">附件：小区现状照片</w:t>" in body and ">小区现状照片</w:t>" in attachment
    # the lead-in ends its page where the table's tall first row does not fit (tests/test_pages.py
    # measures page 1): kept with the table, it took the heading along and left a quarter page empty
    lead = re.search(r"<w:p>(?:(?!</w:p>).)*项改造：</w:t>", body)
    assert lead and "<w:keepNext/>" not in lead.group(0)
    bare = load(folder_with_photos(tmp_path / "bare", PHOTOS[2:]).root)
    text = parts(render(bare, "plan"))[DOCUMENT].decode("utf-8")
    assert "小区现状照片" not in text and "<w:pageBreakBefore/>" not in text
