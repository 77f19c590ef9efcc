"""Named days: holidays, observances and partner countries' national days, as data.

One table, each row with the source of its date. ``substitute`` rewrites a named day in
normalised text into the date the grammar reads ("quốc khánh lào" -> "2/12", "tết nguyên
đán 2025" -> "1/1 âm lịch năm 2025"), so every rule that takes a date also takes a named
day ("trước Quốc khánh Lào", "dịp Tết Dương lịch"). A date written beside the name must
agree with the table ("Quốc khánh 2/9" is checked, "Quốc khánh Lào 2/9" is refused).

A name is read only where the next word cannot extend it into another name ("quốc khánh"
followed by "ba lan" is not Vietnam's national day): an unknown country is an error, never
the wrong country's date. docs/cach-ghi-thoi-gian.md lists the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NAMED_DAYS", "Mismatch", "NamedDay", "substitute"]


@dataclass(frozen=True)
class NamedDay:
    """``date`` as the grammar reads it: "2/9", "10/3 âm lịch", or "14/4-16/4" (a window).

    ``country`` is how the text may name the country after the day ("Bunpimay của nước
    CHDCND Lào"); ``era`` converts a Buddhist-era year written beside a new year (Lao and
    Thai count CE + 543, Khmer CE + 544).
    """

    names: tuple[str, ...]
    date: str
    group: str  # "vn_holiday" | "vn_observance" | "national_day" | "new_year" | "relations"
    source: str
    country: str = ""
    era: int = 0


_LABOUR_CODE = "Bộ luật Lao động 2019, Điều 112 (ngày nghỉ lễ, tết)"
NAMED_DAYS: tuple[NamedDay, ...] = (
    # --- Vietnam: public holidays -----------------------------------------------------------
    NamedDay(("tết dương lịch",), "1/1", "vn_holiday", _LABOUR_CODE),
    NamedDay(("tết nguyên đán", "tết cổ truyền", "tết âm lịch", "tết ta", "tết"),
             "1/1 âm lịch", "vn_holiday", _LABOUR_CODE),
    NamedDay(("giỗ tổ hùng vương", "giỗ tổ"), "10/3 âm lịch", "vn_holiday", _LABOUR_CODE),
    NamedDay(("ngày giải phóng miền nam, thống nhất đất nước",
              "ngày giải phóng hoàn toàn miền nam, thống nhất đất nước",
              "ngày giải phóng miền nam", "ngày thống nhất đất nước", "ngày chiến thắng"),
             "30/4", "vn_holiday", _LABOUR_CODE),
    NamedDay(("ngày quốc tế lao động", "quốc tế lao động"), "1/5", "vn_holiday", _LABOUR_CODE),
    NamedDay(("quốc khánh nước cộng hòa xã hội chủ nghĩa việt nam",
              "quốc khánh nước chxhcn việt nam", "quốc khánh việt nam", "quốc khánh"),
             "2/9", "vn_holiday", _LABOUR_CODE),
    # --- Vietnam: lunar festivals ------------------------------------------------------------
    NamedDay(("tết nguyên tiêu",), "15/1 âm lịch", "vn_observance",
             "Lịch âm: rằm tháng Giêng"),
    NamedDay(("tết đoan ngọ",), "5/5 âm lịch", "vn_observance", "Lịch âm: mùng 5 tháng 5"),
    NamedDay(("tết trung thu", "trung thu"), "15/8 âm lịch", "vn_observance",
             "Lịch âm: rằm tháng 8"),
    # --- Vietnam: observances ------------------------------------------------------------------
    NamedDay(("ngày thành lập đảng cộng sản việt nam",), "3/2", "vn_observance",
             "Đảng Cộng sản Việt Nam thành lập 03/02/1930"),
    NamedDay(("ngày thầy thuốc việt nam",), "27/2", "vn_observance",
             "Thư Chủ tịch Hồ Chí Minh gửi ngành Y tế, 27/02/1955"),
    NamedDay(("ngày quốc tế phụ nữ",), "8/3", "vn_observance", "Liên hợp quốc, 1977"),
    NamedDay(("ngày thành lập đoàn thanh niên cộng sản hồ chí minh",), "26/3", "vn_observance",
             "Đoàn TNCS Hồ Chí Minh thành lập 26/3/1931"),
    NamedDay(("ngày thể thao việt nam",), "27/3", "vn_observance",
             "Lời kêu gọi toàn dân tập thể dục của Chủ tịch Hồ Chí Minh, 27/3/1946"),
    NamedDay(("ngày văn hóa các dân tộc việt nam",), "19/4", "vn_observance",
             "Quyết định 1668/QĐ-TTg ngày 27/11/2008"),
    NamedDay(("ngày sách và văn hóa đọc việt nam",), "21/4", "vn_observance",
             "Quyết định 1862/QĐ-TTg ngày 04/11/2021"),
    NamedDay(("ngày chiến thắng điện biên phủ",), "7/5", "vn_observance", "07/5/1954"),
    NamedDay(("ngày khoa học và công nghệ việt nam",), "18/5", "vn_observance",
             "Quyết định 1244/QĐ-TTg ngày 25/7/2011"),
    NamedDay(("ngày sinh chủ tịch hồ chí minh", "ngày sinh nhật bác hồ"), "19/5",
             "vn_observance", "19/5/1890"),
    NamedDay(("ngày quốc tế thiếu nhi",), "1/6", "vn_observance",
             "Liên đoàn Phụ nữ Dân chủ Quốc tế, 1950"),
    NamedDay(("ngày môi trường thế giới",), "5/6", "vn_observance", "Liên hợp quốc, 1972"),
    NamedDay(("ngày báo chí cách mạng việt nam",), "21/6", "vn_observance",
             "Báo Thanh niên ra số đầu 21/6/1925"),
    NamedDay(("ngày gia đình việt nam",), "28/6", "vn_observance",
             "Quyết định 72/2001/QĐ-TTg ngày 04/5/2001"),
    NamedDay(("ngày thương binh - liệt sĩ", "ngày thương binh-liệt sĩ", "ngày thương binh, liệt sĩ",
              "ngày thương binh liệt sĩ"), "27/7", "vn_observance", "27/7/1947"),
    NamedDay(("ngày cách mạng tháng tám", "cách mạng tháng tám"), "19/8", "vn_observance",
             "19/8/1945"),
    NamedDay(("ngày ngoại giao việt nam", "ngày truyền thống ngành ngoại giao"), "28/8",
             "vn_observance", "Bộ Ngoại giao thành lập 28/8/1945"),
    NamedDay(("ngày quốc tế người cao tuổi",), "1/10", "vn_observance", "Liên hợp quốc, 1990"),
    NamedDay(("ngày chuyển đổi số quốc gia",), "10/10", "vn_observance",
             "Quyết định 505/QĐ-TTg ngày 22/4/2022"),
    NamedDay(("ngày doanh nhân việt nam",), "13/10", "vn_observance",
             "Quyết định 990/2004/QĐ-TTg ngày 30/9/2004"),
    NamedDay(("ngày phụ nữ việt nam",), "20/10", "vn_observance",
             "Hội LHPN Việt Nam thành lập 20/10/1930"),
    NamedDay(("ngày pháp luật việt nam", "ngày pháp luật"), "9/11", "vn_observance",
             "Luật Phổ biến, giáo dục pháp luật 2012, Điều 8"),
    NamedDay(("ngày nhà giáo việt nam",), "20/11", "vn_observance",
             "Quyết định 167/HĐBT ngày 28/9/1982"),
    NamedDay(("ngày di sản văn hóa việt nam",), "23/11", "vn_observance",
             "Quyết định 1272/QĐ-TTg ngày 12/8/2009"),
    NamedDay(("ngày thành lập quân đội nhân dân việt nam", "ngày hội quốc phòng toàn dân"),
             "22/12", "vn_observance", "22/12/1944; Nghị quyết 1989 của Hội đồng Bộ trưởng"),
    # --- partner countries: national days ----------------------------------------------------
    NamedDay(("quốc khánh nước cộng hòa dân chủ nhân dân lào",
              "quốc khánh cộng hòa dân chủ nhân dân lào", "quốc khánh nước chdcnd lào",
              "quốc khánh chdcnd lào", "quốc khánh lào", "quốc khánh nước bạn lào"),
             "2/12", "national_day", "Nước CHDCND Lào thành lập 02/12/1975"),
    NamedDay(("ngày độc lập campuchia", "ngày độc lập vương quốc campuchia",
              "quốc khánh vương quốc campuchia", "quốc khánh campuchia"),
             "9/11", "national_day", "Campuchia độc lập 09/11/1953"),
    NamedDay(("ngày lập quốc hàn quốc", "ngày lập quốc đại hàn dân quốc", "quốc khánh hàn quốc",
              "quốc khánh đại hàn dân quốc", "ngày khai thiên"),
             "3/10", "national_day", "Gaecheonjeol, ngày lập quốc Hàn Quốc 03/10"),
    NamedDay(("quốc khánh trung quốc", "quốc khánh nước cộng hòa nhân dân trung hoa"), "1/10",
             "national_day", "Nước CHND Trung Hoa thành lập 01/10/1949"),
    NamedDay(("quốc khánh thái lan", "quốc khánh vương quốc thái lan"), "5/12", "national_day",
             "Ngày Quốc khánh Thái Lan 05/12"),
    NamedDay(("quốc khánh hoa kỳ", "ngày độc lập hoa kỳ", "quốc khánh mỹ"), "4/7",
             "national_day", "Tuyên ngôn Độc lập 04/7/1776"),
    NamedDay(("quốc khánh pháp", "quốc khánh cộng hòa pháp"), "14/7", "national_day",
             "Fête nationale 14/7"),
    NamedDay(("quốc khánh nga", "quốc khánh liên bang nga", "ngày nước nga"), "12/6",
             "national_day", "Ngày nước Nga 12/6/1990"),
    NamedDay(("quốc khánh cuba",), "1/1", "national_day", "Cách mạng Cuba thắng lợi 01/01/1959"),
    NamedDay(("quốc khánh singapore",), "9/8", "national_day", "Singapore độc lập 09/8/1965"),
    NamedDay(("quốc khánh malaysia",), "31/8", "national_day", "Malaysia độc lập 31/8/1957"),
    NamedDay(("quốc khánh indonesia", "ngày độc lập indonesia"), "17/8", "national_day",
             "Indonesia độc lập 17/8/1945"),
    NamedDay(("quốc khánh philippines", "ngày độc lập philippines"), "12/6", "national_day",
             "Philippines độc lập 12/6/1898"),
    NamedDay(("ngày độc lập myanmar", "quốc khánh myanmar"), "4/1", "national_day",
             "Myanmar độc lập 04/01/1948"),
    NamedDay(("quốc khánh brunei",), "23/2", "national_day", "Ngày Quốc khánh Brunei 23/2/1984"),
    NamedDay(("quốc khánh ấn độ", "ngày cộng hòa ấn độ"), "26/1", "national_day",
             "Hiến pháp Ấn Độ có hiệu lực 26/01/1950"),
    NamedDay(("ngày độc lập ấn độ",), "15/8", "national_day", "Ấn Độ độc lập 15/8/1947"),
    NamedDay(("quốc khánh australia", "quốc khánh úc", "ngày nước úc"), "26/1", "national_day",
             "Australia Day 26/01"),
    NamedDay(("quốc khánh đức", "ngày thống nhất nước đức"), "3/10", "national_day",
             "Tag der Deutschen Einheit 03/10/1990"),
    NamedDay(("quốc khánh mông cổ",), "11/7", "national_day",
             "Cách mạng Nhân dân Mông Cổ 11/7/1921"),
    NamedDay(("quốc khánh triều tiên", "quốc khánh cộng hòa dân chủ nhân dân triều tiên"),
             "9/9", "national_day", "Nước CHDCND Triều Tiên thành lập 09/9/1948"),
    NamedDay(("ngày độc lập ukraine", "quốc khánh ukraine"), "24/8", "national_day",
             "Ukraine độc lập 24/8/1991"),
    NamedDay(("quốc khánh canada", "ngày canada"), "1/7", "national_day", "Canada Day 01/7/1867"),
    NamedDay(("quốc khánh new zealand",), "6/2", "national_day", "Waitangi Day 06/02/1840"),
    NamedDay(("quốc khánh italia", "quốc khánh ý"), "2/6", "national_day",
             "Festa della Repubblica 02/6/1946"),
    # --- relations with neighbours -----------------------------------------------------------
    NamedDay(("ngày thiết lập quan hệ ngoại giao việt nam - lào",
              "ngày thiết lập quan hệ ngoại giao việt nam-lào"), "5/9", "relations",
             "Việt Nam và Lào lập quan hệ ngoại giao 05/9/1962"),
    NamedDay(("ngày ký hiệp ước hữu nghị và hợp tác việt nam - lào",
              "ngày ký hiệp ước hữu nghị và hợp tác việt nam-lào"), "18/7", "relations",
             "Hiệp ước Hữu nghị và Hợp tác Việt Nam - Lào ký 18/7/1977"),
    NamedDay(("ngày thiết lập quan hệ ngoại giao việt nam - campuchia",
              "ngày thiết lập quan hệ ngoại giao việt nam-campuchia"), "24/6", "relations",
             "Việt Nam và Campuchia lập quan hệ ngoại giao 24/6/1967"),
    # --- foreign new years (the usual days; each government sets them yearly) ---------------
    NamedDay(("bunpimay", "bun pi may", "bunpimai", "bun pi mai", "bun pimay", "pi mai lào",
              "tết cổ truyền lào", "tết cổ truyền của lào", "tết lào", "tết té nước lào"),
             "14/4-16/4", "new_year",
             "Bun Pi May, Tết cổ truyền Lào: 14-16/4 (Chính phủ Lào công bố hằng năm)",
             country="lào", era=543),
    NamedDay(("chol chnam thmay", "chôl chnăm thmây", "chôl chnăm thmay", "chol chnam thmey",
              "chôl chnam thmây", "chô chơ-nam thơ-mây", "chôl-chnăm-thmây", "tết khmer",
              "tết cổ truyền khmer", "tết cổ truyền campuchia", "tết cổ truyền của campuchia",
              "tết campuchia"),
             "14/4-16/4", "new_year",
             "Chol Chnam Thmay, Tết cổ truyền Khmer: 14-16/4 (Chính phủ Campuchia công bố hằng "
             "năm)", country="campuchia", era=544),
    NamedDay(("songkran", "tết té nước thái lan", "tết cổ truyền thái lan"),
             "13/4-15/4", "new_year", "Songkran, Thái Lan: 13-15/4", country="thái lan", era=543),
)  # fmt: skip

_INDEX = {name: row for row in NAMED_DAYS for name in row.names}
_NAMES = "|".join(re.escape(n) for n in sorted(_INDEX, key=len, reverse=True))
# After a name: the end, punctuation, a date, a year, or a word that joins times. Any other
# word could make it another name ("quốc khánh ba lan"), which is not guessed.
_AFTER = r"(?=$|[,;.)]|-| \(| (?:[0-9]|năm\b|và\b|đến\b|tới\b|hằng\b|âm\b|của\b|phật\b))"
# "Tết cổ truyền (dân tộc Lào) Bunpimay": the words a new year's name comes with.
_NEW_YEAR = (
    r"(?:tết (?:cổ truyền )?(?:dân tộc )?(?:(?:của )?(?:người |nước |đồng bào )?(?:lào |khmer ))?)"
)
_COUNTRY = (
    r"(?: (?:của )?(?:nhân dân |đồng bào |người |nước |vương quốc )?(?:bạn )?"
    r"(?P<{}>cộng hòa dân chủ nhân dân lào|chdcnd lào|lào|vương quốc campuchia|campuchia"
    r"|khmer|thái lan))"
)
_RX = re.compile(
    rf"(?<![\w/])(?:(?:ngày|lễ) )?{_NEW_YEAR}?\(?(?P<name>{_NAMES}){_AFTER}\)?"
    + _COUNTRY.format("country") + "?"
    r"(?: \(?(?:ngày )?(?P<d>[0-9]{1,2})[/.-](?P<m>[0-9]{1,2})(?:[/.-](?P<y>[0-9]{4}))?\)?)?"
    r"(?:,? (?:năm )?(?P<y2>[0-9]{4})(?![0-9/]))?"
    r"(?: \(?(?:tính )?theo phật lịch\)?|,? phật lịch (?P<be>[0-9]{4}))?"
    + _COUNTRY.format("country2") + "?"
)


class Mismatch(ValueError):
    """A date written beside a name that the table gives another date."""


def _year(m: re.Match[str], row: NamedDay) -> str | None:
    """The year written with the name; a Buddhist-era year converted by the row's era."""
    year = m["y"] or m["y2"]
    era_year = m["be"] or (year if year and "phật lịch" in m[0] else None)
    if era_year is None and year is not None and int(year) > 2200 and row.era:
        era_year = year
    if era_year is None:
        return year
    if not row.era:
        raise Mismatch(f"{m['name']!r} has no Buddhist-era year ({era_year})")
    return str(int(era_year) - row.era)


def _one(m: re.Match[str]) -> str:
    row = _INDEX[m["name"]]
    country = m["country"] or m["country2"]
    khmer = row.country == "campuchia" and country == "khmer"
    if country and row.country and not (country.endswith(row.country) or khmer):
        raise Mismatch(f"{m['name']!r} is not a day of {country}")
    year = _year(m, row)
    if m["d"]:
        first = row.date.split("-")[0].split(" ")[0]
        day, month = (int(x) for x in first.split("/"))
        if (int(m["d"]), int(m["m"])) != (day, month) or "âm" in row.date:
            raise Mismatch(
                f"{m['name']!r} is {row.date}, not {int(m['d'])}/{int(m['m'])}"
                f" (source: {row.source})"
            )
    if not year:
        return row.date
    if "-" in row.date:  # a window: the year goes on its end ("14/4-16/4/2025")
        return f"{row.date}/{year}"
    return f"{row.date} năm {year}" if " " in row.date else f"{row.date}/{year}"


# Words of the names that time phrases use for nothing else: a phrase with none of them holds
# no named day, and the long alternation above is not run over it.
_COMMON = frozenset(["ngày", "lễ", "năm", "của", "và", "nước", "việt", "nam", "tháng"])
_NAME_WORDS = frozenset(w for n in _INDEX for w in n.replace("-", " ").split()) - _COMMON
_WORDS = re.compile(r"[\s,;:.()-]+")


def substitute(s: str) -> tuple[str, tuple[str, ...]]:
    """Normalised text with each named day replaced by its date, and the names replaced."""
    if _NAME_WORDS.isdisjoint(_WORDS.split(s)) or not _RX.search(s):
        return s, ()
    names: list[str] = []

    def one(m: re.Match[str]) -> str:
        names.append(m["name"])
        return _one(m)

    return _RX.sub(one, s), tuple(names)
