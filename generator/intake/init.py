"""Start a data folder for another city: the source's parameters, placeholders for its names."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.data.loader import BUNDLED_DATA, load
from generator.data.yamlio import dump_yaml, load_yaml
from generator.errors import DataError, OutputError, Problem

NUMBER_PLACEHOLDER = "【待填写：发文字号，如×委办〔2018〕40号】"
"""Left for the clerk: a document number cannot be made up, and the marker is easy to find."""

_COMMENTS = {
    "city": ["# 改造工作方案的参数，由 gaizao init 按{source}生成。",
             "# 城市名称、方案名称、发文机关已换成本市的写法；",
             "# 其余数字是{source}的取值，请逐项对照本市的方案修改。",
             "# 修改后运行 gaizao --data <本文件夹> validate 检查。"],
    "title": ["# 方案名称（文书中引用）"],
    "issuance": ["# 印发方案的文件：标题、发文字号（须填写）、发文机关、",
                 "# 成文日期（请改为本市方案的日期）"],
    "report_recipient": ["# 试点工作报告、年度总结的报送单位"],
    "years": ["# 年度实施计划覆盖的年度；计划表中每个小区的“改造年度计划”必须在其中"],
    "parties": ["# 文书中对各出资方的称谓"],
    "general_split": ["# 一般改造项目的分担比例（市级:县（区）级:居民），",
                      "# 尾差由 remainder_to 一方承担"],
    "pipeline_split": ["# 水、电、气、通讯管线表（箱）前段的分担比例；",
                       "# excluded_gas_area 为不适用该比例的供气区域"],
    "eligibility": ["# 改造对象条件：建成年份须早于 built_before_year，",
                    "# 居民支持率不低于 min_support_percent（%）"],
    "deadlines": ["# 各环节时限（试点年度）；以后年度按同一月日顺延"],
    "pilot": ["# 试点目标（年度、小区个数、户数、投资万元）：请按本市方案填写。",
              "# 填写前 validate 会提示“试点目标与计划表不一致”（警告），填好后即消失。"],
    "stated": ["# 方案正文写明的总数（小区个数、户数、总投资约数，及各县（区）的数字），",
               "# 用来与计划表逐行合计核对。请照录本市方案正文；未照录时，导入计划表后",
               "# validate 会提示“方案正文写共0个小区”等（警告），照录后即消失。"],
    "assessment": ["# 年度综合考评四个方面的权重（合计 100）"],
    "notice": ["# 改造方案公示的最少天数（自然日）"],
}


def programme_text(city: str, years: list[int] | None = None) -> str:
    """programme.yaml for a new city: the bundled parameters, the city's names, no stated totals.

    With the plan years of the city's workbook, the years are the city's and the bundled
    deadlines and issuing date move by as many years (same month and day).
    """
    data, _ = load_yaml(BUNDLED_DATA / "programme.yaml")
    if years:
        _move_years(data, years)
    plan = f"{city}老旧小区改造工作方案"
    data["city"] = city
    data["title"] = plan
    data["issuance"]["title"] = f"关于印发《{plan}》的通知"
    data["issuance"]["number"] = NUMBER_PLACEHOLDER
    data["issuance"]["issuers"] = [f"中共{city}委办公室", f"{city}人民政府办公室"]
    data["report_recipient"] = f"{city}住房城乡建设局"
    # Zero: no pilot target stated yet, so no rule compares against it.
    data["pilot"] = {"year": data["years"][0], "communities": 0, "households": 0,
                     "investment_wan": 0}
    data["stated"] = {"communities": 0, "households": 0, "investment_yi_approx": 0, "districts": []}
    return _with_comments(dump_yaml(data))


def _shifted(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _move_years(data: dict[str, Any], years: list[int]) -> None:
    """The plan years of the city, and the bundled dates moved to them."""
    delta = years[0] - data["years"][0]
    data["years"] = years
    data["issuance"]["date"] = _shifted(data["issuance"]["date"], delta)
    for step in data["deadlines"]:
        step["last_day"] = _shifted(step["last_day"], delta)
        step["text"] = re.sub(r"(\d{4})(?=年)", lambda m: str(int(m.group(1)) + delta), step["text"])


def _source() -> str:
    """The bundled programme the defaults come from, named as its own data names it."""
    issuance, _ = load_yaml(BUNDLED_DATA / "programme.yaml")
    return f"{issuance['city']}方案（{issuance['issuance']['number']}）"


def _with_comments(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        key = line.split(":", 1)[0]
        if not line.startswith((" ", "-")) and key in _COMMENTS:
            if lines:
                lines.append("")
            lines.extend(c.format(source=_source()) for c in _COMMENTS[key])
        lines.append(line)
    return "\n".join(lines) + "\n"


_BY_COMMITTEE = ("高新", "开发区", "园区", "新区", "管委会", "管理委员会")
"""Words in a district's name that mean a 管委会 governs it, not a people's government."""


def plan_district(name: str) -> dict[str, Any]:
    """A district of a city's plan workbook, its bodies' full names left to fill in."""
    committee = any(word in name for word in _BY_COMMITTEE)
    body = "管理委员会" if committee else "人民政府"
    return {"name": name, "body_type": "管委会" if committee else "政府",
            "government": f"【待填写：{name}{body}全称】",
            "housing_bureau": f"【待填写：{name}住房城乡建设部门全称】"}


def districts_text(city: str, districts: list[str] | None = None) -> str:
    """districts.yaml with one example district to edit, or the districts of a plan workbook."""
    example: dict[str, Any] = {"districts": [plan_district(d) for d in districts] if districts else [{
        "name": "示例区",
        "body_type": "政府",
        "government": f"{city}示例区人民政府",
        "housing_bureau": f"{city}示例区住房和城乡建设局",
    }]}
    return ("# 本市各县（区）及其主管机关：请把下面的示例改成本市实际的县（区），每个一项。\n"
            "# name 须与计划表“县(区)”列的写法一致；body_type 写“政府”，\n"
            "# 开发区、高新区等由管委会管理的写“管委会”；\n"
            "# government、housing_bureau 写全称，文书据此称呼。导入计划表前先写好本文件。\n"
            + dump_yaml(example))


COMMUNITIES_TEXT = """\
# 附件1 年度实施计划表，每行一个小区。请用 gaizao --data <本文件夹> import 计划表.xlsx 导入，
# 不必手工填写；字段说明见 docs/data.md。
communities: []
"""

README = """\
{city}老旧小区改造数据文件夹

本文件夹由 gaizao init 生成，是 gaizao 工具的数据文件夹。以下命令中的“{folder}”即本文件夹。

一、先改两个文件（用记事本等编辑，保存为 UTF-8 编码）
  1. programme.yaml：方案参数。城市、方案名称、发文机关已按“{city}”生成；
     发文字号写着“【待填写】”，须照本市方案填写；成文日期、计划年度、各环节时限、
     分担比例、试点目标等是{source}的取值，请逐项对照本市方案修改。
  2. districts.yaml：本市各县（区）。把其中的“示例区”改成实际的县（区），每个一项。

二、导入计划表
  把本市的年度实施计划表（式样同{source}附件1，须为 .xlsx）导入：
    gaizao --data {folder} import 计划表.xlsx
  表中有问题时，会逐条指出工作表、行、列和原因，改好后重新导入即可。

三、校验
    gaizao --data {folder} validate
  “错误”必须改正，“警告”只作提示。

四、生成文书
  在 projects 文件夹中为每个小区建一个项目资料文件（projects/<小区编号>.yaml），然后：
    gaizao --data {folder} build --out 输出文件夹

其他文件：catalogue.yaml 是改造提升项目分类表（复制自{source}附件2，可按本市修改）；
reports 文件夹放各县（区）的年度报告材料。
"""


@dataclass
class InitResult:
    """The new folder and the files made in it."""

    folder: Path
    files: list[Path]
    assumed: list[str] = field(default_factory=list)
    """What init --plan took for granted, for the clerk to check."""
    todo: list[str] = field(default_factory=list)
    """What the city must still fill in (marked 【待填写】 in the files and documents)."""


def init_data(folder: Path, city: str, plan: Path | None = None) -> InitResult:
    """Make a new data folder for a city; refuse a folder that already holds anything.

    With a plan workbook, its districts and plan years are the city's and its rows are imported;
    the folder is made in a scratch folder beside it and appears only once it loads.
    """
    city = city.strip()
    if not city:
        raise DataError([Problem("--city", "城市名称不能为空，请写全称，如“绵阳市”")])
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} 已存在且不是文件夹")
    if folder.is_dir() and any(folder.iterdir()):
        raise OutputError(f"{folder} 不是空文件夹；为免覆盖已有文件，请指定一个新的或空的文件夹")
    if plan is not None:
        return _init_from_plan(folder, city, plan)
    return _make(folder, city, None, None)


def _make(folder: Path, city: str, districts: list[str] | None, years: list[int] | None,
          shown_as: Path | None = None) -> InitResult:
    """Write the folder's files; shown_as is the folder's name in README.txt when made elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "programme.yaml": programme_text(city, years),
        "districts.yaml": districts_text(city, districts),
        "communities.yaml": COMMUNITIES_TEXT,
    }
    files = []
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        files.append(folder / name)
    shutil.copyfile(BUNDLED_DATA / "catalogue.yaml", folder / "catalogue.yaml")
    files.append(folder / "catalogue.yaml")
    for sub in ("projects", "reports"):
        (folder / sub).mkdir()
        files.append(folder / sub)
    # CRLF and a BOM: older Windows Notepad shows anything else as one line of mojibake
    readme = README.format(city=city, folder=shown_as or folder, source=_source()).replace("\n", "\r\n")
    (folder / "README.txt").write_bytes(readme.encode("utf-8-sig"))
    files.append(folder / "README.txt")
    load(folder)  # what init makes must load; a failure here is a bug, reported as any data error
    return InitResult(folder=folder, files=files)


STREET_PLACEHOLDER = "【待填写：街道办事处】"
COMMITTEE_PLACEHOLDER = "【待填写：社区居民委员会】"


def _init_from_plan(folder: Path, city: str, plan: Path) -> InitResult:
    """init --plan: districts and years learnt from the workbook, its rows imported, a project
    file per community at the survey stage so that validate and build run at once."""
    from generator.intake.plan_import import import_workbook, read_workbook

    rows = read_workbook(plan)  # every problem of the workbook before anything is made
    districts = list(dict.fromkeys(r.district for r in rows))
    years = sorted({r.year for r in rows})
    stage = folder.parent / f".{folder.name}.init-{id(rows)}"
    try:
        result = _make(stage, city, districts, years, shown_as=folder)
        imported = import_workbook(plan, stage)
        data = load(stage)
        for community in data.communities.values():
            (stage / "projects" / f"{community.id}.yaml").write_text(_project_text(community.id), encoding="utf-8")
        load(stage)
        if folder.is_dir():
            folder.rmdir()  # empty, checked above
        stage.rename(folder)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    result.folder = folder
    result.files = [folder / p.relative_to(stage) for p in result.files]
    committee = [d for d in districts if plan_district(d)["body_type"] == "管委会"]
    source = _source()
    result.assumed = [
        f"县（区）：计划表中出现的 {len(districts)} 个：{'、'.join(districts)}"
        + (f"；其中{'、'.join(committee)}按名称视为管委会管理，其余为人民政府" if committee else "，均为人民政府"),
        f"计划年度：{'、'.join(str(y) for y in years)}（试点年度 {years[0]}）",
        f"小区：{len(imported.rows)} 个，编号按县（区）顺序编为 d1-序号、d2-序号……",
        f"方案参数（分担比例、支持率、建成年份、考评权重、公示天数）沿用{source}；"
        f"各环节时限和成文日期按同一月日移到 {years[0]} 年",
        "每个小区建了一个项目资料文件（projects/<编号>.yaml），进度为“意见征询”，"
        "可先生成空白的居民意见征询表",
    ]
    result.todo = [
        "programme.yaml：发文字号（issuance.number）、成文日期、方案正文的总数（stated）和试点目标（pilot），"
        "并逐项核对方案参数",
        "districts.yaml：各县（区）政府（管委会）和住房城乡建设部门的全称（government、housing_bureau）",
        "projects/*.yaml：各小区的街道办事处和社区居民委员会（street_office、community_committee）；"
        "也可用 gaizao form export 导出填报表交街道办事处填写",
    ]
    return result


def _project_text(community_id: str) -> str:
    return ("# 由 gaizao init --plan 建立：进度为意见征询，标有【待填写】的请改为实际名称。\n"
            "# 其余资料可用 gaizao form export 导出填报表，由街道办事处填写后导入。\n"
            + dump_yaml({"community": community_id, "illustrative": False, "stage": "survey",
                         "street_office": STREET_PLACEHOLDER, "community_committee": COMMITTEE_PLACEHOLDER}))
