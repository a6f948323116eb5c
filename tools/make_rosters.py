"""Write the illustrative household rosters of the pilot year's communities (data/rosters/<id>.csv).

Every name and phone number is made up by a fixed-seed generator: names are drawn from common
surnames and given-name characters, phone numbers from the 100 range, which no Chinese carrier
uses. Each roster agrees with its project file: the buildings and their households, the
survey's counts of 同意, 不同意 and 未表态, and the community's type (no 商品房 household in a
community that is not a commodity-housing estate). Run from the project root:

    python tools/make_rosters.py            # writes data/rosters/
    python tools/make_rosters.py DATA_DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from generator.data.loader import BUNDLED_DATA, ROSTERS, DataSet, load
from generator.data.models import Project
from generator.data.roster import Household, Roster, plain, write_csv

SEED = 2018
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国文辉力成志刚海燕德福春梅淑珍永学"
TENURES = ("房改房", "商品房", "公房", "集资房")
NOT_COMMODITY = ("房改房", "集资房", "公房")
"""What a drawn 商品房 becomes, in turn, in a community that is not a commodity-housing estate
(the draw itself is kept, so every other column stays as it was)."""
FLOORS = 6
DOORS = 2


def _name(rng: random.Random, taken: str) -> str:
    """A made-up three-character name that occurs nowhere in the data's own texts."""
    while True:
        given = rng.choice(GIVEN) + rng.choice(GIVEN)
        name = rng.choice(SURNAMES) + given
        if name not in taken:
            return name


def _rooms(households: int) -> list[tuple[str, str]]:
    """(单元, 房号) for a building: two doors a floor, six floors a unit, unit after unit."""
    rooms = []
    per_unit = FLOORS * DOORS
    for index in range(households):
        unit, rest = divmod(index, per_unit)
        floor, door = divmod(rest, DOORS)
        rooms.append((str(unit + 1), f"{floor + 1}0{door + 1}"))
    return rooms


def data_texts(root: Path) -> str:
    """Every YAML file of the data folder as one text, which no made-up name may be part of."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.yaml")))


def roster_for(data: DataSet, project: Project, taken: str = "") -> Roster:
    """An illustrative roster agreeing with the project's buildings and survey counts."""
    rng = random.Random(f"{SEED}:{project.community}")
    survey = project.survey
    assert survey is not None and project.buildings
    answers = (["同意"] * survey.support + ["不同意"] * survey.oppose + ["未表态"] * survey.no_answer)
    answers += [None] * (sum(b.households for b in project.buildings) - len(answers))
    rng.shuffle(answers)
    planned = [line.item for line in project.items] or list(data.items)
    others = [name for name in data.items if name not in planned]
    mode = project.management.property_mode
    phones = rng.sample(range(10_000_000, 100_000_000), len(answers))
    households = []
    instead = itertools.cycle(NOT_COMMODITY)
    for building in project.buildings:
        for unit, room in _rooms(building.households):
            answer = answers[len(households)]
            wants: tuple[str, ...] = ()
            if answer == "同意":
                chosen = rng.sample(planned, min(len(planned), rng.randint(2, 4)))
                if others and rng.random() < 0.1:
                    chosen.append(rng.choice(others))
                wants = tuple(sorted(chosen, key=list(data.items).index))
            asked = answer is not None
            # drawn in the order they always were, so the same seed gives the same households
            head = _name(rng, taken)
            area = plain(Decimal(rng.randint(450, 1200)).scaleb(-1))
            tenure = rng.choice(TENURES)
            if tenure == "商品房" and not project.commodity_housing:
                tenure = next(instead)
            households.append(Household(
                building=building.name, unit=unit, room=room, head=head,
                phone=f"100{phones[len(households)]:08d}", area=area, tenure=tenure,
                answer=answer, wants=wants,
                pays=(rng.random() < 0.95) if answer == "同意" else (False if answer == "不同意" else None),
                management=(mode if rng.random() < 0.9 else None) if answer == "同意" else None,
                fund=(rng.random() < 0.9) if answer == "同意" else None,
                date=survey.date - dt.timedelta(days=rng.randint(0, 6)) if asked else None,
                remarks="户主外出，电话征询" if asked and rng.random() < 0.03 else None,
            ))
    return Roster(households=tuple(households), rows=tuple(range(3, 3 + len(households))),
                  illustrative=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=BUNDLED_DATA, help="数据文件夹")
    args = parser.parse_args(argv)
    data = load(args.data)
    folder = args.data / ROSTERS
    folder.mkdir(exist_ok=True)
    pilot = data.programme.pilot.year
    taken = data_texts(args.data)
    for community in data.active_communities():
        project = data.projects.get(community.id)
        if community.year != pilot or project is None or project.survey is None:
            continue
        path = folder / f"{community.id}.csv"
        path.write_bytes(write_csv(roster_for(data, project, taken)))
        print(path)


if __name__ == "__main__":
    main()
