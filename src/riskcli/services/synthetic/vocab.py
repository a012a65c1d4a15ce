"""The words and shares the generator draws from: industries, regions and cities, names, brands,
bureaus, ratings and interaction notes."""

from __future__ import annotations

import numpy as np

# (name, risk offset on the latent logit, share of customers)
INDUSTRIES: tuple[tuple[str, float, float], ...] = (
    ("制造业", 0.00, 0.22),
    ("批发零售", 0.15, 0.20),
    ("建筑业", 0.55, 0.09),
    ("信息技术", -0.25, 0.08),
    ("交通运输", 0.10, 0.07),
    ("餐饮住宿", 0.45, 0.06),
    ("房地产", 0.75, 0.04),
    ("农林牧渔", 0.25, 0.05),
    ("医药医疗", -0.35, 0.05),
    ("教育培训", 0.35, 0.04),
    ("能源化工", 0.05, 0.05),
    ("专业服务", -0.15, 0.05),
)
# words used in company names, one list per industry above
INDUSTRY_WORDS: tuple[tuple[str, ...], ...] = (
    ("机械制造", "精密机械", "电子", "五金制品", "塑胶制品"),
    ("贸易", "商贸", "百货", "供应链管理"),
    ("建设工程", "建筑工程", "装饰工程"),
    ("科技", "信息技术", "软件", "网络科技"),
    ("物流", "运输", "货运代理"),
    ("餐饮管理", "酒店管理", "餐饮"),
    ("房地产开发", "置业", "物业管理"),
    ("农业", "生态农业", "牧业"),
    ("医药", "医疗器械", "生物科技"),
    ("教育咨询", "培训", "文化传播"),
    ("化工", "能源", "新材料"),
    ("咨询", "企业管理咨询", "会计服务"),
)
# (region, risk offset, share, ((city, admin code), ...))
REGIONS: tuple[tuple[str, float, float, tuple[tuple[str, str], ...]], ...] = (
    ("华东", -0.15, 0.34, (("上海", "310115"), ("苏州", "320505"), ("杭州", "330106"),
                          ("南京", "320102"), ("宁波", "330203"), ("合肥", "340104"))),
    ("华南", -0.10, 0.20, (("广州", "440106"), ("深圳", "440305"), ("东莞", "441900"),
                          ("佛山", "440604"), ("厦门", "350203"))),
    ("华北", 0.00, 0.15, (("北京", "110105"), ("天津", "120101"), ("石家庄", "130102"),
                         ("济南", "370102"), ("青岛", "370202"))),
    ("华中", 0.05, 0.11, (("武汉", "420106"), ("长沙", "430104"), ("郑州", "410105"))),
    ("西南", 0.10, 0.10, (("成都", "510107"), ("重庆", "500103"), ("昆明", "530102"))),
    ("西北", 0.25, 0.05, (("西安", "610113"), ("兰州", "620102"), ("银川", "640104"))),
    ("东北", 0.30, 0.05, (("沈阳", "210102"), ("大连", "210202"), ("哈尔滨", "230102"))),
)  # fmt: skip
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("邓", "deng"), ("冯", "feng"), ("韩", "han"), ("曹", "cao"),
    ("曾", "zeng"), ("彭", "peng"), ("萧", "xiao"), ("蔡", "cai"), ("潘", "pan"), ("田", "tian"),
)  # fmt: skip
GIVEN = (
    ("伟", "w"), ("芳", "f"), ("娜", "n"), ("敏", "m"), ("静", "j"), ("丽", "l"), ("强", "q"),
    ("磊", "l"), ("军", "j"), ("洋", "y"), ("勇", "y"), ("艳", "y"), ("杰", "j"), ("涛", "t"),
    ("明", "m"), ("超", "c"), ("秀英", "xy"), ("霞", "x"), ("平", "p"), ("刚", "g"), ("桂英", "gy"),
    ("建华", "jh"), ("志强", "zq"), ("晓东", "xd"), ("海燕", "hy"), ("文博", "wb"), ("子涵", "zh"),
    ("欣怡", "xy"), ("浩然", "hr"), ("雨萱", "yx"), ("俊杰", "jj"), ("思远", "sy"),
)  # fmt: skip
BRANDS = (
    ("恒达", "hengda"), ("华信", "huaxin"), ("鑫源", "xinyuan"), ("宏图", "hongtu"),
    ("永盛", "yongsheng"), ("金桥", "jinqiao"), ("瑞丰", "ruifeng"), ("天成", "tiancheng"),
    ("嘉禾", "jiahe"), ("中联", "zhonglian"), ("新锐", "xinrui"), ("博远", "boyuan"),
    ("盛世", "shengshi"), ("远航", "yuanhang"), ("东方", "dongfang"), ("汇通", "huitong"),
    ("德润", "derun"), ("长青", "changqing"), ("正泰", "zhengtai"), ("海纳", "haina"),
    ("立信", "lixin"), ("安泰", "antai"), ("凯旋", "kaixuan"), ("华鼎", "huading"),
    ("同创", "tongchuang"), ("宝丰", "baofeng"), ("富强", "fuqiang"), ("万通", "wantong"),
    ("科达", "keda"), ("联创", "lianchuang"), ("昌盛", "changsheng"), ("隆基", "longji"),
)  # fmt: skip
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
ENGLISH_SUFFIXES = (" Trading Co. Ltd.", " Technology Co. Ltd.", " Industrial Ltd.")
PERSONAL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com")
COMPANY_MAILBOXES = ("finance", "info", "sales", "caiwu", "admin")
ACCOUNT_OWNERS = (
    "王丽", "李强", "张敏", "刘洋", "陈静", "杨磊", "黄伟", "赵娜", "吴杰", "周芳", "徐涛", "孙超",
    "马俊", "朱琳", "胡斌", "郭婷", "何平", "林峰", "Kevin Zhang", "Lisa Wang", "Tom Li",
    "Amy Chen",
)  # fmt: skip
COMPANY_PROVIDERS = ("企查查", "天眼查", "中诚信", "Dun & Bradstreet")
PERSON_PROVIDERS = ("百行征信", "朴道征信")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
RATING_CUTS = (780, 730, 680, 630, 580, 520)  # score >= cut[i] -> RATINGS[i]
INTERACTION_KINDS = ("call", "email", "visit", "survey", "complaint")
NOTES: tuple[tuple[str, ...], ...] = (
    ("电话回访", "催收提醒电话", "确认下月订单", "Follow-up call", "询问付款进度"),
    ("发送对账单", "报价邮件", "Invoice sent by email", "发送合同草案"),
    ("季度拜访", "年度业务回顾", "Site visit with CFO", "新品推介"),
    ("满意度调查", "NPS survey", "年度客户调研"),
    ("投诉：发货延迟", "投诉：质量问题", "投诉：发票错误", "Complaint: late delivery"),
)  # fmt: skip


# every city in region order, and where each region's cities start in that list
CITIES: list[tuple[str, str]] = [city for *_, cities in REGIONS for city in cities]
REGION_CITY_START = np.cumsum([0] + [len(r[3]) for r in REGIONS])[:-1].astype(np.int64)
REGION_CITY_COUNT = np.array([len(r[3]) for r in REGIONS], dtype=np.int64)
