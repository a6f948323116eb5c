"""The programme's data model: programme rules, districts, catalogue, plan rows and project detail."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)


def _exact_number(value: Any) -> Any:
    """Accept int or Decimal (the YAML loader reads decimals exactly); refuse text and floats."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("应为数字")
    return Decimal(value)


def _places(limit: int) -> Any:
    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("应为有限的数字")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > limit:
            raise ValueError(f"最多保留{limit}位小数")
        return value

    return check


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("不能为负数")
    return value


# Upper limits. Nothing in the programme comes near them; they catch a value pasted into the
# wrong field, an extra row of zeros or a unit mix-up (元 typed as 万元), and they keep every
# later sum, format and spreadsheet cell within what Decimal, Word and Excel handle exactly
# (Excel keeps 15 significant digits: 1e12 元 to the 分, or 1e8 万元 to six decimals).
MAX_YUAN = Decimal(10) ** 12
"""1 万亿元: more than a year's renovation investment of the whole country."""
MAX_WAN = MAX_YUAN / 10000
MAX_NUMBER = Decimal(10) ** 12
"""Quantities and percentages: any real quantity (m², metres, sets) is far below."""
MAX_HOUSEHOLDS = 1_000_000
"""One community (or building, or survey): the largest estates in China have some 30,000."""
MAX_COUNT = 100_000_000
"""City-level counts (households of a whole programme, 序号) stay below this."""
MAX_TEXT = 10_000
"""Characters of one text field: five pages of a document; more is a paste gone wrong."""
MAX_LONG_TEXT = 50_000
"""Characters of one section of a report's own narrative (总结材料)."""


def _at_most(limit: Decimal | int, words: str) -> Any:
    def check(value: Any) -> Any:
        if value > limit:
            raise ValueError(f"超过上限{words}，请检查是否多写了零或单位有误")
        return value

    return check


def _text(value: Any) -> Any:
    """Text fields accept text and plain numbers written without quotes (a year, a house number)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return str(value)
    return value


Money = Annotated[
    Decimal, BeforeValidator(_exact_number), AfterValidator(_places(2)), AfterValidator(_non_negative),
    AfterValidator(_at_most(MAX_YUAN, "（1万亿元）")),
]
"""An amount in 元, at most 2 decimals, never negative."""

Wan = Annotated[
    Decimal, BeforeValidator(_exact_number), AfterValidator(_places(6)), AfterValidator(_non_negative),
    AfterValidator(_at_most(MAX_WAN, "（100000000万元，即1万亿元）")),
]
"""An amount in 万元 (10,000 元); 6 decimals keep it exact to the 分."""

Number = Annotated[
    Decimal, BeforeValidator(_exact_number), AfterValidator(_non_negative),
    AfterValidator(_at_most(MAX_NUMBER, "（1万亿）")),
]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=MAX_TEXT)]
LongText = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=MAX_LONG_TEXT)]
# Upper limits of integers are validators, not Field(le=...): docs/data.md keeps saying 正整数.
Count = Annotated[int, Field(ge=0), AfterValidator(_at_most(MAX_COUNT, "（100000000）"))]
Positive = Annotated[int, Field(gt=0), AfterValidator(_at_most(MAX_COUNT, "（100000000）"))]
Households = Annotated[int, Field(gt=0), AfterValidator(_at_most(MAX_HOUSEHOLDS, "（1000000户）"))]
Year = Annotated[int, Field(ge=1900, le=2100)]


class Record(BaseModel):
    """Strict base: unknown fields and loose types are errors, records are immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---------------------------------------------------------------- programme


class Issuance(Record):
    title: Text = Field(title="文件标题")
    number: Text = Field(title="发文字号")
    issuers: list[Text] = Field(title="发文机关", min_length=1)
    date: dt.date = Field(title="成文日期")


PartyKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
"""A paying party's key in programme.yaml (central, province, city, …): lower-case letters."""


class Parties(Record):
    """How documents name the paying parties, in the order the programme file lists them.

    The six parties below are always named; a programme adds any others (中央补助资金,
    省级补助, 专项债券 …) under keys of its own.
    """

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    __pydantic_extra__: dict[PartyKey, Text]  # type: ignore[assignment]

    _order: tuple[str, ...] = PrivateAttr(default=())
    _names: dict[str, str] | None = PrivateAttr(default=None)
    """ordered()'s answer, made once: the record is frozen, and the rules ask for it per project."""

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: Any) -> Any:
        made = handler(data)
        if isinstance(data, dict):
            made._order = tuple(data)
        return made

    def ordered(self) -> dict[str, str]:
        """Party key → name, in the programme file's order (the model's order for the rest)."""
        if self._names is None:
            names = self.model_dump()
            keys = [*(k for k in self._order if k in names), *(k for k in names if k not in self._order)]
            self._names = {k: names[k] for k in keys}
        return dict(self._names)  # the caller's own: a template or a rule may add to it

    city: Text = Field(title="市级财政")
    district: Text = Field(title="县（区）级财政")
    residents: Text = Field(title="小区居民")
    utility: Text = Field(title="管线单位")
    maintenance_fund: Text = Field(title="维修资金")
    social_capital: Text = Field(title="社会资本")


class GeneralSplit(Record):
    """Section 六: city : district : residents for ordinary items."""

    city: Positive = Field(title="市级份额")
    district: Count = Field(title="县（区）级份额")
    residents: Count = Field(title="居民份额")
    remainder_to: Literal["city", "district", "residents"] = Field(title="尾差承担方")


class PipelineSplit(Record):
    """Section 六: utility pipelines before the meter, utility : district; after it, residents."""

    utility_percent: Number = Field(title="管线单位比例（%）")
    district_percent: Number = Field(title="县（区）政府比例（%）")
    remainder_to: Literal["utility", "district"] = Field(title="尾差承担方")
    excluded_gas_area: Text = Field(title="不适用的供气区域")


_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def _share(value: Any) -> Any:
    """A threshold written as a percentage (90, 50) or a fraction in quotes ("2/3", "3/4")."""
    if isinstance(value, str):
        match = _FRACTION.match(value)
        if not match or int(match.group(2)) == 0 or int(match.group(1)) > int(match.group(2)):
            raise ValueError("应写成百分数（如 90）或分数（如 \"2/3\"，分子不大于分母）")
        return value.replace(" ", "")
    number = _exact_number(value)
    if number > 100:
        raise ValueError("百分数不能超过100")
    return value


Share = Annotated[int | Decimal | str, BeforeValidator(_share)]
"""A threshold: a percentage, or a fraction such as "2/3" (民法典 第二百七十八条)."""


def share_fraction(value: int | Decimal | str) -> tuple[Decimal, Decimal]:
    """A threshold as numerator and denominator of a fraction of 1: 90 → (90, 100), "2/3" → (2, 3)."""
    if isinstance(value, str):
        top, bottom = value.split("/")
        return Decimal(top), Decimal(bottom)
    return Decimal(value), Decimal(100)


def share_text(value: int | Decimal | str) -> str:
    """A threshold as papers print it: 90%, 2/3, 过半 is the caller's word."""
    if isinstance(value, str):
        top, bottom = value.split("/")
        return f"{top}/{bottom}"
    return f"{format(Decimal(value).normalize(), 'f')}%"


class ConsentRule(Record):
    """Who must agree to the renovation, counted how: the seed's 90 % of households, 双过半,
    or 民法典 第二百七十八条 (participation ≥2/3 of area and owners, approval ≥3/4 of those)."""

    scope: Literal["community", "building", "unit"] = Field(
        default="community", title="计票范围", description="community 整个小区；building 每幢；unit 每个单元。"
                                                          "按幢、单元计票须有住户名册。")
    by: list[Literal["households", "area"]] = Field(
        title="计票依据", min_length=1,
        description="households 户数；area 建筑面积（须住户名册填全面积）。两者都写时须同时达到。")
    participation: Share | None = Field(
        default=None, title="参与表决比例下限（百分数如 50，或分数如 \"2/3\"）",
        description="参与表决（同意或不同意）的户数、面积占范围内全部户数、面积的比例下限；不写则不设参与门槛")
    approval: Share = Field(title="同意比例下限（百分数如 90，或分数如 \"3/4\"）")
    approval_of: Literal["asked", "participants", "all"] = Field(
        default="asked", title="同意比例的基数",
        description="asked 已征询的户（含未表态）；participants 参与表决的户；all 范围内全部户")
    more_than: bool = Field(default=False, title="须超过比例（如“过半”）而不只是达到")


class ElevatorShares(Record):
    """How the owners of a unit share an added elevator's cost: a coefficient per floor (higher
    floors pay more), optionally times the floor area; the 分 left over by rounding go to one household."""

    coefficients: dict[int, Number] = Field(
        title="各楼层分摊系数（楼层: 系数，如 1: 0、2: 1、3: 1.2；未列出的楼层按最高已列楼层的系数）", min_length=1)
    by_area: bool = Field(default=False, title="按系数乘以建筑面积分摊（false 时每户按系数分摊）")
    remainder_to: Literal["top", "bottom"] = Field(
        default="top", title="尾差承担户",
        description="按比例算到分后剩余的零头由哪一户承担：top 最高层的第一户；bottom 最低的分摊户")


class VoteRules(Record):
    """The programme's rules for owners' votes (业主表决), by name: 民法典278, 双过半 …"""

    rules: dict[str, ConsentRule] = Field(title="表决规则（名称: 规则）", min_length=1)
    elevator: ElevatorShares | None = Field(default=None, title="加装电梯费用分摊")


class Contribution(Record):
    """What one party pays before the split: a fixed sum, per ㎡ of floor area or per household,
    at most a cap; never more than what is left of the base."""

    party: PartyKey = Field(title="出资方")
    fixed: Money | None = Field(default=None, title="固定金额（元）")
    per_m2: Money | None = Field(default=None, title="每平方米建筑面积（元/㎡）")
    per_household: Money | None = Field(default=None, title="每户（元/户）")
    cap: Money | None = Field(default=None, title="上限（元）")

    @model_validator(mode="after")
    def _one_way(self) -> Contribution:
        given = [v for v in (self.fixed, self.per_m2, self.per_household) if v is not None]
        if len(given) != 1:
            raise ValueError("fixed、per_m2、per_household 须填且只填一项")
        return self


class CategorySplit(Record):
    """How the items of one catalogue category (基础类, 完善类, 提升类 …) are paid."""

    category: Text = Field(title="类别（分类表中的类别名称）")
    contributions: list[Contribution] = Field(default_factory=list, title="先行出资")
    shares: dict[PartyKey, Number] = Field(title="其余部分的分担比例", min_length=1)
    remainder_to: PartyKey = Field(title="尾差承担方")

    @model_validator(mode="after")
    def _remainder_shares(self) -> CategorySplit:
        if self.remainder_to not in self.shares:
            raise ValueError(f"尾差承担方 {self.remainder_to} 须是 shares 中的一方")
        if not any(self.shares.values()):
            raise ValueError("shares 的比例不能全为0")
        return self


class FundingRules(Record):
    """The programme's funding by item category (2020 年以后的做法); without it, general_split."""

    categories: list[CategorySplit] = Field(title="各类别的分担方式", min_length=1)
    raised_to: Text | None = Field(
        default=None, title="维修资金、社会资本冲减的类别",
        description="项目填写的维修资金、社会资本先冲减该类别的金额；不写时为第一个类别。")


class Eligibility(Record):
    built_before_year: Year = Field(title="建成年份须早于")
    min_support_percent: Number = Field(title="居民支持率下限（%）")
    min_area_support_percent: Number | None = Field(
        default=None, title="按建筑面积计的居民支持率下限（%，要求户数和面积“双过半”等的城市填写）"
    )
    consent: ConsentRule | None = Field(
        default=None, title="居民同意规则",
        description="不写时按 min_support_percent（及 min_area_support_percent）对已征询户计。")


class Deadline(Record):
    key: Literal["start", "plan", "implementation", "report"] = Field(title="环节")
    name: Text = Field(title="环节名称")
    text: Text = Field(title="原文表述")
    last_day: dt.date = Field(title="最后期限（含当日）")


class Targets(Record):
    """Zero means the programme states no such figure."""

    year: Year = Field(title="年度")
    communities: Count = Field(title="小区个数")
    households: Count = Field(title="户数")
    investment_wan: Wan = Field(title="投资（万元）")


class StatedDistrict(Record):
    district: Text = Field(title="县（区）")
    communities: Count = Field(title="小区个数")
    households: Count = Field(title="户数")
    investment_wan: Wan = Field(title="投资（万元）")


class StatedTotals(Record):
    """Figures section 一 states in prose, to be checked against the plan rows."""

    communities: Count = Field(title="小区个数")
    households: Count = Field(title="户数")
    investment_yi_approx: Number = Field(title="总投资约数（亿元）")
    districts: list[StatedDistrict] = Field(title="分县（区）数字")


class AssessmentWeights(Record):
    """Section 九(四): weights of the four dimensions of the annual assessment."""

    households: Number = Field(title="改造户数权重")
    content: Number = Field(title="改造内容权重")
    standards: Number = Field(title="改造标准权重")
    management: Number = Field(title="长效管理权重")


class NoticeRules(Record):
    min_days: Positive = Field(title="公示最少天数")
    needs_review: bool = Field(
        default=False, title="公示须经县（区）审核通过后才能打印张贴",
        description="为 true 时，网页版中改造方案公示在县（区）住房城乡建设部门审核通过之前不能下载、打印；"
                    "审核通过后公示内容又有改动的，须重新审核。",
    )


class ReturnRules(Record):
    """When the programme's returns and filings fall due."""

    monthly_due_day: Annotated[int, Field(ge=1, le=28)] = Field(
        default=5, title="月报报送日（次月几日前）", description="进展统计月报在次月该日（含）前报送。")
    completion_filing_days: Positive = Field(
        default=15, title="竣工验收备案期限（验收后天数）", description="竣工验收合格后该天数内办理竣工验收备案。")
    carry_over_day: Annotated[str, Field(pattern=r"^\d{2}-\d{2}$")] = Field(
        default="12-31", title="年度资金结转日（月-日）", description="每年该日统计结转资金。")


Measure = Literal[
    "households_done", "content_delivered", "acceptance_passed", "management", "started", "completed",
    "fund_received", "fund_used", "investment_done", "support", "filing_on_time", "notice_period",
]
"""What a computed indicator measures, as a rate of the district's year (documents/self_assessment.py)."""


class ScoreIndicator(Record):
    """One indicator of a self-assessment tree: a heading over others, or a leaf that is scored."""

    name: Text = Field(title="指标名称")
    points: Number = Field(title="分值")
    measure: Measure | None = Field(
        default=None, title="由数据计算（指标）",
        description="households_done 改造户数完成率、content_delivered 改造内容完成率、acceptance_passed 验收合格率、"
                    "management 长效管理达标率、started 开工率、completed 完工率、fund_received 资金到位率、"
                    "fund_used 资金使用率、investment_done 投资完成率、support 居民支持率、filing_on_time 按期备案率、"
                    "notice_period 公示期达标率。不写时为填报指标，由县（区）在年度报告资料中填写得分和佐证材料。")
    target: Number = Field(default=Decimal(100), title="满分所需比率（%）",
                           description="比率达到该值得满分，不足时按比例得分。")
    children: list[ScoreIndicator] = Field(default_factory=list, title="下级指标")

    @model_validator(mode="after")
    def _points_add_up(self) -> ScoreIndicator:
        if self.children:
            if self.measure is not None:
                raise ValueError(f"指标“{self.name}”有下级指标，不能再写 measure")
            total = sum((c.points for c in self.children), Decimal(0))
            if total != self.points:
                raise ValueError(f"指标“{self.name}”分值{self.points}，下级指标分值合计{total}，两者应相等")
        return self


class Grade(Record):
    name: Text = Field(title="等级")
    above: Number = Field(title="总分高于（分）")


class AssessmentTree(Record):
    """A self-assessment (绩效自评) indicator tree: its indicators, points and grade bands."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)] = Field(title="编号")
    title: Text = Field(title="名称")
    indicators: list[ScoreIndicator] = Field(title="一级指标", min_length=1)
    grades: list[Grade] = Field(title="等级（从高到低，总分高于该分为该等级）", min_length=1)
    lowest: Text = Field(default="不合格", title="最低等级")


class Programme(Record):
    city: Text = Field(title="城市")
    title: Text = Field(title="方案名称")
    issuance: Issuance = Field(title="印发文件")
    report_recipient: Text = Field(title="报告报送单位")
    years: list[Year] = Field(title="计划年度", min_length=1)
    parties: Parties = Field(title="出资方称谓（下列六方必填；可另加其他出资方，如 central: 中央补助资金）")
    general_split: GeneralSplit | None = Field(
        default=None, title="一般项目分担比例",
        description="没有按类别的资金分担（funding）时必填；有 funding 时只用于其中未列出的类别，"
                    "各类别都已列出时可不写。")
    funding: FundingRules | None = Field(
        default=None, title="按类别的资金分担",
        description="写明各类别（如基础类、完善类、提升类）的分担方式时，一般项目按类别分担，general_split 只用于"
                    "未列出的类别。")
    pipeline_split: PipelineSplit | None = Field(
        default=None, title="管线表前分担比例",
        description="没有 funding 时必填；有 funding 而不写时，水电气讯等管线项目不分表（箱）前后，"
                    "按其所在类别的方式分担。")
    eligibility: Eligibility = Field(title="改造对象条件")
    deadlines: list[Deadline] = Field(title="工作步骤时限")
    pilot: Targets = Field(title="试点目标")
    stated: StatedTotals = Field(title="方案所述总数")
    assessment: AssessmentWeights = Field(title="综合考评权重")
    notice: NoticeRules = Field(title="公示要求")
    returns: ReturnRules = Field(default_factory=ReturnRules, title="月报与备案时限")
    self_assessment: list[AssessmentTree] = Field(default_factory=list, title="绩效自评指标体系")
    votes: VoteRules | None = Field(
        default=None, title="业主表决规则",
        description="加装电梯、改造方案等须业主表决的事项所用的规则，表决资料（votes/）按名称引用。")
    neutral_basis: Text | None = Field(
        default=None, title="方案印发前的文书所写的依据",
        description="早于方案印发日期的文书不引用方案，改写这句话；不写时为“按照全市老旧小区改造（试点）工作安排”。")

    @model_validator(mode="after")
    def _funding_parties_are_named(self) -> Programme:
        """Every party a funding rule names is one of parties (so papers can name it); without
        categories, the general and pipeline splits are the whole rule, so both are needed."""
        if self.funding is None:
            missing = [f"{key}（{title}）" for key, title in (("general_split", "一般项目分担比例"),
                                                               ("pipeline_split", "管线表前分担比例"))
                       if getattr(self, key) is None]
            if missing:
                raise ValueError(f"缺少 {'、'.join(missing)}：没有按类别的资金分担（funding.categories）时，"
                                 "须写明一般项目和管线项目的分担比例")
            return self
        named = set(self.parties.ordered())
        for i, cat in enumerate(self.funding.categories):
            for key in [*cat.shares, *(c.party for c in cat.contributions)]:
                if key not in named:
                    raise ValueError(f"funding.categories[{i}]（类别“{cat.category}”）的出资方 {key} "
                                     "不在 parties 中，请在 parties 中写明其称谓")
        listed = [c.category for c in self.funding.categories]
        if self.funding.raised_to is not None and self.funding.raised_to not in listed:
            raise ValueError(f"funding.raised_to 的类别“{self.funding.raised_to}”不在 funding.categories 中")
        return self


# ---------------------------------------------------------------- districts


class District(Record):
    name: Text = Field(title="县（区）")
    slug: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")] | None = Field(
        default=None, title="编号前缀（导入计划表时用于生成小区编号）"
    )
    body_type: Literal["政府", "管委会"] = Field(title="主管机关类型")
    government: Text = Field(title="政府（管委会）全称")
    housing_bureau: Text = Field(title="住房城乡建设部门全称")


# ---------------------------------------------------------------- catalogue

Funding = Literal["general", "pipeline", "public_service"]
Utility = Literal["water", "power", "gas", "telecom"]


EffectKey = Literal[
    "pipe_water", "pipe_power", "pipe_gas", "pipe_heat", "pipe_telecom", "elevators", "energy_area",
    "parking", "car_chargers", "bike_chargers", "elderly_facilities", "childcare_facilities",
    "service_facilities", "leisure_area",
]
"""The effect indicators of the national statistical survey (改造效果情况)."""


class EffectLink(Record):
    """Which effect indicator a catalogue item's quantity counts toward, and how its units convert."""

    indicator: EffectKey = Field(
        title="改造效果指标",
        description="pipe_water 供水管线(km)、pipe_power 供电(km)、pipe_gas 供气(km)、pipe_heat 供热(km)、"
                    "pipe_telecom 通信(km)、elevators 加装电梯(台)、energy_area 建筑节能改造(㎡)、parking 停车位(个)、"
                    "car_chargers 电动汽车充电桩(个)、bike_chargers 电动自行车充电桩(个)、elderly_facilities 养老服务"
                    "设施(个)、childcare_facilities 托育设施(个)、service_facilities 其他社区服务设施(个)、"
                    "leisure_area 文化休闲、体育健身场地(㎡)")
    units: dict[Annotated[str, Field(min_length=1, max_length=20)], Number] = Field(
        default_factory=dict, title="另行约定的单位换算（预算单位: 折合指标单位的系数）",
        description="通用单位（米、公里、平方米、台、个等）自动换算；其他单位在此写明，如 {套: 1}。")
    ignore_units: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, title="不计入该指标的单位",
        description="以这些单位计量的预算项目量的是别的东西（如按户计的“一户一表”改造），不计入该指标，也不提示。")


class CatalogueItem(Record):
    name: Text = Field(title="项目名称")
    content: Text = Field(title="内容")
    standard: Text | None = Field(default=None, title="标准")
    funding: Funding = Field(title="资金渠道")
    utility: Utility | None = Field(default=None, title="管线类别")
    effect: EffectLink | None = Field(default=None, title="计入的改造效果指标")


class Category(Record):
    name: Text = Field(title="类别")
    items: list[CatalogueItem] = Field(title="项目", min_length=1)


class Catalogue(Record):
    categories: list[Category] = Field(title="类别", min_length=1)
    note: Annotated[str, Field(max_length=MAX_LONG_TEXT)] = Field(default="", title="备注")


# ---------------------------------------------------------------- plan rows (annex 1)

_YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*年?\s*(?:[—–\-~～至]+\s*(\d{4})\s*年?|\s*年代)?\s*$")


def parse_built(text: str | None) -> tuple[int, int] | None:
    """Read 建成时间 as written ('1970', '1980 年代', '1985—2000') into a year range."""
    if not text:
        return None
    match = _YEAR_RANGE.match(text)
    if not match:
        return None
    first = int(match.group(1))
    if match.group(2):
        return first, int(match.group(2))
    if "年代" in text:
        return first, first + 9
    return first, first


class Community(Record):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", title="编号")]
    seq: Positive = Field(title="序号")
    name: Text = Field(title="老旧小区名称")
    district: Text = Field(title="县(区)")
    built: Text | None = Field(default=None, title="建成时间")
    location: Text | None = Field(default=None, title="小区位置")
    households: Households = Field(title="户数")
    investment_wan: Wan = Field(title="预计投资(万元)")
    year: Year = Field(title="改造年度计划")
    remarks: Text | None = Field(default=None, title="备注")
    status: Literal["planned", "withdrawn"] = Field(default="planned", title="状态")
    replaces: Text | None = Field(default=None, title="替换的计划项目")

    @property
    def built_years(self) -> tuple[int, int] | None:
        return parse_built(self.built)


class Plan(Record):
    communities: list[Community] = Field(title="小区")


# ---------------------------------------------------------------- project detail

Stage = Literal[
    "survey", "application", "plan", "notice", "construction", "completed", "accepted"
]
STAGES: tuple[str, ...] = (
    "survey", "application", "plan", "notice", "construction", "completed", "accepted"
)
STAGE_NAMES = {
    "survey": "意见征询",
    "application": "申请",
    "plan": "方案编制",
    "notice": "方案公示",
    "construction": "施工",
    "completed": "完工",
    "accepted": "已验收",
}


class Survey(Record):
    """The survey's date and, unless a household roster gives them, its counts."""

    date: dt.date = Field(title="征询日期")
    households_asked: Households | None = Field(default=None, title="征询户数（有住户名册时可不填）")
    support: Count | None = Field(default=None, title="同意户数（有住户名册时可不填）")
    oppose: Count | None = Field(default=None, title="反对户数（有住户名册时可不填）")
    no_answer: Count | None = Field(default=None, title="未表态户数（有住户名册时可不填）")

    @property
    def counted(self) -> bool:
        """All four counts are written in."""
        return None not in (self.households_asked, self.support, self.oppose, self.no_answer)


class Building(Record):
    name: Text = Field(title="楼栋")
    households: Households = Field(title="户数")


class BudgetLine(Record):
    item: Text = Field(title="改造项目")
    description: Text = Field(title="工程内容")
    quantity: Number = Field(title="数量")
    unit: Text = Field(title="单位")
    unit_price: Money = Field(title="单价（元）")
    amount: Money = Field(title="金额（元）")
    before_meter: Money | None = Field(default=None, title="表（箱）前金额（元）")
    after_meter: Money | None = Field(default=None, title="表（箱）后金额（元）")


class OtherFunding(Record):
    maintenance_fund: Money = Field(default=Decimal(0), title="维修资金（元）")
    social_capital: Money = Field(default=Decimal(0), title="社会资本（元）")


class Units(Record):
    design: Text | None = Field(default=None, title="设计单位")
    cost_consulting: Text | None = Field(default=None, title="造价咨询单位")
    construction: Text | None = Field(default=None, title="施工单位")
    supervision: Text | None = Field(default=None, title="监理单位")
    utilities: list[Text] = Field(default_factory=list, title="管线单位")


class Dates(Record):
    application: dt.date | None = Field(default=None, title="申请日期")
    plan: dt.date | None = Field(default=None, title="方案日期")
    notice_start: dt.date | None = Field(default=None, title="公示开始日期")
    notice_end: dt.date | None = Field(default=None, title="公示结束日期")
    start: dt.date | None = Field(default=None, title="开工日期")
    completion: dt.date | None = Field(default=None, title="完工日期")
    acceptance: dt.date | None = Field(default=None, title="验收日期")
    filing: dt.date | None = Field(default=None, title="竣工验收备案日期")


class CommitteeContact(Record):
    """Who at the community committee answers for the application."""

    person: Text = Field(title="联系人")
    phone: Text = Field(title="联系电话")


class Contact(Record):
    person: Text = Field(title="联系人")
    phone: Text = Field(title="联系电话")
    objection_to: Text = Field(title="意见反映单位")
    notice_place: Text = Field(title="公示地点")


class AcceptanceResult(Record):
    item: Text = Field(title="改造项目")
    result: Literal["合格", "不合格"] = Field(title="验收结果")
    remarks: Text | None = Field(default=None, title="备注")


class Rectification(Record):
    """The re-inspection after failed items were put right: only then does the project pass."""

    date: dt.date = Field(title="复验日期")
    note: Text = Field(title="整改及复验情况")


class Acceptance(Record):
    results: list[AcceptanceResult] = Field(title="分项验收结果")
    conclusion: Text = Field(title="验收结论")
    settlement: Money | None = Field(default=None, title="结算金额（元）")
    remaining_issues: Text | None = Field(default=None, title="遗留问题")
    rectification_deadline: dt.date | None = Field(default=None, title="整改期限")
    rectification: Rectification | None = Field(default=None, title="整改复验")

    @property
    def failed(self) -> list[str]:
        """Items that did not pass."""
        return [r.item for r in self.results if r.result != "合格"]

    @property
    def passed(self) -> bool:
        """Every item passed, or the failed ones were put right and re-inspected."""
        return not self.failed or self.rectification is not None


class Management(Record):
    body: Literal["业主委员会", "居民自治小组"] | None = Field(default=None, title="自治组织")
    body_name: Text | None = Field(default=None, title="自治组织名称")
    property_mode: Literal["专业化物业管理", "业主自治管理"] | None = Field(
        default=None, title="物业管理方式"
    )
    property_company: Text | None = Field(default=None, title="物业服务企业")
    maintenance_fund: bool = Field(default=False, title="已建立维修资金")
    maintenance_fund_amount: Money = Field(default=Decimal(0), title="维修资金归集额（元）")


class ActualFunding(Record):
    """Money paid in by party; a programme's own parties (central, province …) under their keys."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    __pydantic_extra__: dict[PartyKey, Money]  # type: ignore[assignment]

    city: Money = Field(default=Decimal(0), title="市级财政（元）")
    district: Money = Field(default=Decimal(0), title="县（区）级财政（元）")
    residents: Money = Field(default=Decimal(0), title="居民（元）")
    utility: Money = Field(default=Decimal(0), title="管线单位（元）")
    maintenance_fund: Money = Field(default=Decimal(0), title="维修资金（元）")
    social_capital: Money = Field(default=Decimal(0), title="社会资本（元）")


class Completion(Record):
    households_done: Count = Field(title="完成户数")
    actual: ActualFunding = Field(title="实际投资")


FundSource = PartyKey
FUND_KINDS = ("下达", "到位", "支出")


class FundEvent(Record):
    """Money for the project on one day: allocated (下达), paid in (到位) or spent (支出), by source."""

    date: dt.date = Field(title="日期")
    source: PartyKey = Field(title="资金来源（出资方，如 city、district、central）")
    kind: Literal["下达", "到位", "支出"] = Field(title="类别（下达、到位、支出）")
    amount: Money = Field(title="金额（元）")
    document: Text | None = Field(default=None, title="文号或凭证号")


class Narrative(Record):
    situation: LongText | None = Field(default=None, title="基本情况")
    practices: LongText | None = Field(default=None, title="主要做法")
    results: LongText | None = Field(default=None, title="成效")
    experience: LongText | None = Field(default=None, title="可复制可推广的经验")
    problems: LongText | None = Field(default=None, title="存在问题")
    suggestions: LongText | None = Field(default=None, title="意见建议")


_PHOTO_FILE = re.compile(r"^(?![/\\])(?![A-Za-z]:)(?!.*(^|[/\\])\.\.([/\\]|$))[^\\\x00-\x1f]+$")
"""A path inside the community's photo folder: not absolute, no drive, no '..', no backslash."""


def _photo_file(value: str) -> str:
    if not _PHOTO_FILE.match(value):
        raise ValueError("照片文件须写成照片文件夹内的相对路径（如 现状-1.jpg），不能以 / 开头、不能含 .. 或 \\")
    return value


PhotoFile = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_photo_file)]

PHOTO_KINDS = ("现状", "施工", "完工")


class Photo(Record):
    """A photo of the community, in data/photos/<community id>/; papers print it with its caption."""

    file: PhotoFile = Field(title="照片文件（photos/小区编号/ 下的文件名）")
    caption: Text = Field(title="说明")
    kind: Literal["现状", "施工", "完工"] = Field(title="类别（现状、施工、完工）")
    date: dt.date | None = Field(default=None, title="拍摄日期")
    item: Text | None = Field(default=None, title="所示改造项目（分类表中的项目名称）")
    original: Text | None = Field(default=None, title="上传时的文件名（经办人电脑上的原名，仅供查找）")


class Project(Record):
    community: Text = Field(title="小区编号")
    illustrative: bool = Field(title="示例数据")
    stage: Stage = Field(title="进度阶段")
    street_office: Text = Field(title="街道办事处")
    community_committee: Text = Field(title="社区居民委员会")
    in_gas_company_area: bool = Field(default=False, title="位于燃气公司供气区域")
    floor_area: Number | None = Field(default=None, title="改造范围建筑面积（㎡，按面积出资时填写）")
    problems: list[Text] = Field(default_factory=list, title="现状问题")
    buildings: list[Building] = Field(default_factory=list, title="楼栋")
    survey: Survey | None = Field(default=None, title="居民意见征询")
    items: list[BudgetLine] = Field(default_factory=list, title="预算项目")
    other_funding: OtherFunding = Field(default_factory=OtherFunding, title="其他资金")
    budget_matches_plan: bool = Field(default=False, title="预算等于计划投资")
    units: Units = Field(default_factory=Units, title="参建单位")
    dates: Dates = Field(default_factory=Dates, title="日期")
    contact: Contact | None = Field(default=None, title="公示联系")
    committee_contact: CommitteeContact | None = Field(default=None, title="社区联系人")
    commodity_housing: bool = Field(default=False, title="商品房小区")
    acceptance: Acceptance | None = Field(default=None, title="竣工验收")
    management: Management = Field(default_factory=Management, title="长效管理")
    completion: Completion | None = Field(default=None, title="完成情况")
    funds: list[FundEvent] = Field(
        default_factory=list, title="资金下达、到位、支出记录",
        description="按日期逐笔记录各出资方资金的下达、到位和支出，月报和资金使用率据此统计。")
    narrative: Narrative = Field(default_factory=Narrative, title="总结材料")
    photos: list[Photo] = Field(default_factory=list, title="照片")

    def at_least(self, stage: str) -> bool:
        """True when the project has reached the given stage."""
        return STAGES.index(self.stage) >= STAGES.index(stage)


CITY_REPORT = "全市"
"""The district name under which data/reports/<year>/ holds the city compilation's own data."""


class Dispatch(Record):
    """What makes a report a 公文 (GB/T 9704): its number, who signs it off, where it goes.

    A field left out prints as a visible 【待填写】 mark; an empty list of 抄送 means none.
    """

    agency_code: Text | None = Field(default=None, title="机关代字")
    number: Positive | None = Field(default=None, title="发文顺序号")
    signer: Text | None = Field(default=None, title="签发人")
    recipient: Text | None = Field(default=None, title="主送机关")
    cc: list[Text] | None = Field(default=None, title="抄送机关")
    office: Text | None = Field(default=None, title="印发机关")
    print_date: dt.date | None = Field(default=None, title="印发日期")


class EnteredScore(Record):
    """A score a district enters for an indicator not computed from data, with what it rests on."""

    tree: Text = Field(title="指标体系编号")
    indicator: Text = Field(title="指标名称")
    score: Number = Field(title="得分")
    evidence: Text = Field(title="佐证材料（文件、文号、照片或记录）")


class DistrictReport(Record):
    """A district's own words for its annual (pilot) report (district 全市: the city compilation)."""

    district: Text = Field(title="县（区）")
    year: Year = Field(title="年度")
    date: dt.date | None = Field(default=None, title="报告日期")
    document: Dispatch = Field(default_factory=Dispatch, title="公文要素")
    narrative: Narrative = Field(default_factory=Narrative, title="报告内容")
    scores: list[EnteredScore] = Field(default_factory=list, title="绩效自评填报得分")
