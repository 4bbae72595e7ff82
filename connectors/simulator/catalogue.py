"""Static reference data for generated scenarios, in the style of the shared scenario files.

A cosmetics brand's 30-SKU catalogue, the two warehouses and their provinces, the receiver
geography (13 provinces, one to three city/district pairs each), and the name and street
pools that receivers are drawn from. Standard library only.
"""

from __future__ import annotations

__all__ = [
    "CHANNELS",
    "DEFAULT_WAREHOUSE",
    "GEOGRAPHY",
    "GIVEN_NAME_CHARS",
    "SKUS",
    "STREETS",
    "SURNAMES",
    "TIGHT_PAIRS",
    "UNKNOWN_SKU",
    "WAREHOUSES",
]

# channel name -> order-id prefix (ids look like YZ20260110000068: prefix, day, 6-digit seq)
CHANNELS: dict[str, str] = {"youzan": "YZ", "douyin": "DY", "h5": "H5"}

_PRODUCT_LINES = (
    ("LIP", "丝绒唇釉", "129.00"),
    ("EYE", "眼影盘", "169.00"),
    ("FND", "粉底液", "239.00"),
    ("BLS", "腮红", "99.00"),
    ("MSC", "睫毛膏", "89.00"),
    ("PWD", "定妆散粉", "149.00"),
)

SKUS: list[dict[str, str]] = [
    {"sku": f"{code}-{n:03d}", "title": f"{title} #{n:02d}", "price": price}
    for code, title, price in _PRODUCT_LINES
    for n in range(1, 6)
]

# A delisted product that shows up on a few stale orders: not in the catalogue.
UNKNOWN_SKU: dict[str, str] = {"sku": "ZZZ-404", "title": "下架商品", "price": "59.00"}

WAREHOUSES: list[dict[str, object]] = [
    {
        "code": "east",
        "name": "华东仓",
        "provinces": ["上海市", "江苏省", "浙江省", "安徽省", "山东省", "江西省"],
    },
    {
        "code": "south",
        "name": "华南仓",
        "provinces": ["广东省", "广西壮族自治区", "福建省", "海南省"],
    },
]
DEFAULT_WAREHOUSE = "east"

# The SKU@warehouse pairs kept short of stock, with their on-hand at the 1,200-order scale
# and how many orders beyond that on-hand ask for them.
TIGHT_PAIRS: list[tuple[str, str, int, int]] = [
    ("LIP-003", "east", 25, 7),
    ("EYE-002", "south", 18, 7),
    ("FND-004", "east", 12, 6),
]

GEOGRAPHY: dict[str, list[tuple[str, str]]] = {
    "上海市": [("上海市", "徐汇区"), ("上海市", "浦东新区"), ("上海市", "静安区")],
    "江苏省": [("南京市", "玄武区"), ("无锡市", "滨湖区"), ("苏州市", "工业园区")],
    "浙江省": [("杭州市", "西湖区"), ("宁波市", "鄞州区"), ("温州市", "鹿城区")],
    "安徽省": [("合肥市", "蜀山区"), ("芜湖市", "镜湖区")],
    "山东省": [("济南市", "历下区"), ("青岛市", "市南区")],
    "江西省": [("南昌市", "东湖区")],
    "广东省": [("广州市", "天河区"), ("深圳市", "南山区"), ("佛山市", "禅城区")],
    "广西壮族自治区": [("南宁市", "青秀区")],
    "福建省": [("福州市", "鼓楼区"), ("厦门市", "思明区")],
    "海南省": [("海口市", "美兰区")],
    "北京市": [("北京市", "朝阳区"), ("北京市", "海淀区")],
    "湖北省": [("武汉市", "洪山区")],
    "四川省": [("成都市", "武侯区")],
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
STREETS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "南京路",
    "长江路",
    "学院路",
    "文三路",
    "科技园路",
    "滨江大道",
)
