"""Word lists and weighted tables that generated names are drawn from, and the draws.

All written for vigil: made-up company words rather than a crawl of real sites, so a model cannot
learn the list. The well-known brands below appear only as phishing targets and as a thin slice
of official hosts, because both sides of a real DNS log name them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
K = TypeVar("K", bound=str)


def check_sizes(count_name: str, count: int, malicious_share: float) -> None:
    """Refuse a negative row count or a malicious share outside [0, 1] (every generator)."""
    if count < 0:
        raise ValueError(f"{count_name} must be >= 0, got {count}")
    if not 0.0 <= malicious_share <= 1.0:
        raise ValueError(f"malicious_share must be within [0, 1], got {malicious_share}")


def pick(rng: np.random.Generator, options: Sequence[T], n: int) -> list[T]:
    """``n`` uniform draws from ``options``."""
    return [options[i] for i in rng.integers(0, len(options), size=n).tolist()]


def pick_weighted(rng: np.random.Generator, weights: Mapping[str, float], n: int) -> list[str]:
    """``n`` draws from the keys of ``weights``, each as likely as its (unnormalised) weight."""
    options = list(weights)
    p = np.fromiter(weights.values(), dtype=np.float64, count=len(options))
    return [options[i] for i in rng.choice(len(options), size=n, p=p / p.sum()).tolist()]


def apportion(total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """Split ``total`` in proportion to ``weights``, largest remainders first: exact and stable."""
    keys = list(weights)
    shares = np.array([weights[k] for k in keys], dtype=np.float64)
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - counts), kind="stable")[: total - int(counts.sum())]:
        counts[k] += 1
    return dict(zip(keys, counts.tolist(), strict=True))


#: Rounds of redrawing before a group is declared out of distinct values.
MAX_DRAW_ROUNDS = 50


def draw_distinct(
    counts: Mapping[K, int],
    draw: Callable[[K, int], Iterable[T]],
    key: Callable[[T], Hashable],
    *,
    group: str,
    values: str,
) -> tuple[list[T], list[K]]:
    """Each group's count of values from ``draw(group, k)``, redrawn until no ``key`` repeats
    across all groups; the values and, per value, its group.

    Raises ``ValueError`` (naming the ``group`` and ``values`` words) when a group runs out.
    """
    seen: set[Hashable] = set()
    out: list[T] = []
    groups: list[K] = []
    for name, count in counts.items():
        got = 0
        for _ in range(MAX_DRAW_ROUNDS):
            if got == count:
                break
            for value in draw(name, count - got):
                k = key(value)
                if k not in seen:
                    seen.add(k)
                    out.append(value)
                    got += 1
        if got < count:
            raise ValueError(
                f"{group} {name!r} ran out of distinct {values} after {got:,} of {count:,}; "
                "ask for fewer rows or a different malicious_share"
            )
        groups.extend([name] * count)
    return out, groups


#: Top-level domains of benign names, weighted roughly like registrations on the real web:
#: .com about half, then .net/.org, the big country codes, and a sliver of the cheap new gTLDs
#: that honest small sites use too.
BENIGN_TLDS: Mapping[str, float] = {
    "com": 46.0, "net": 5.5, "org": 5.0, "de": 3.5, "ru": 2.5, "co.uk": 2.0, "com.br": 1.5,
    "fr": 1.5, "jp": 1.5, "cn": 1.2, "io": 1.2, "nl": 1.2, "it": 1.2, "pl": 1.0, "info": 1.0,
    "es": 0.8, "ca": 0.8, "com.au": 0.8, "in": 0.8, "eu": 0.6, "ch": 0.6, "co": 0.6, "se": 0.5,
    "us": 0.5, "app": 0.5, "edu": 0.5, "me": 0.4, "cz": 0.4, "be": 0.4, "at": 0.4, "dk": 0.4,
    "kr": 0.4, "co.jp": 0.4, "com.tr": 0.4, "ua": 0.3, "pt": 0.3, "ro": 0.3, "vn": 0.3,
    "tv": 0.3, "dev": 0.3, "com.cn": 0.3, "com.mx": 0.3, "xyz": 0.3, "gr": 0.2, "hu": 0.2,
    "fi": 0.2, "no": 0.2, "ir": 0.2, "ac.uk": 0.2, "co.za": 0.2, "com.ar": 0.2, "cl": 0.2,
    "co.id": 0.2, "ai": 0.2, "gov": 0.2, "online": 0.2, "site": 0.2, "top": 0.15, "shop": 0.2,
    "store": 0.1, "cloud": 0.1, "tech": 0.1, "co.nz": 0.15, "sk": 0.15, "ie": 0.15, "lt": 0.1,
}  # fmt: skip

#: New gTLDs and free ccTLDs that cost little and are abused most.
CHEAP_TLDS: Mapping[str, float] = {
    "xyz": 8, "top": 8, "click": 5, "online": 6, "site": 5, "live": 4, "shop": 4, "icu": 3,
    "buzz": 2, "cfd": 2, "sbs": 2, "rest": 1, "lat": 1, "fun": 2, "pw": 2, "cyou": 1, "bond": 1,
    "monster": 1, "quest": 1, "space": 2, "store": 2, "pics": 1, "mom": 1, "tk": 2, "ml": 1,
    "ga": 1, "cf": 1, "gq": 1, "ru": 4, "su": 1, "biz": 2, "info": 3, "cc": 1, "ws": 1,
}  # fmt: skip

#: Company-ish words: the building blocks of invented brands.
BRAND_WORDS = (
    "blue", "bright", "north", "south", "east", "west", "river", "lake", "stone", "oak", "pine",
    "cedar", "maple", "sun", "star", "moon", "sky", "cloud", "data", "net", "web", "tech", "soft",
    "smart", "quick", "fast", "prime", "true", "pure", "green", "red", "gold", "silver", "iron",
    "city", "metro", "urban", "home", "house", "garden", "kitchen", "food", "fresh", "farm",
    "market", "shop", "store", "trade", "bank", "capital", "fund", "health", "care", "med",
    "clinic", "dental", "legal", "travel", "tour", "hotel", "air", "sea", "ocean", "wave",
    "peak", "summit", "valley", "field", "forest", "wood", "land", "world", "global", "united",
    "first", "one", "next", "new", "open", "free", "easy", "simple", "happy", "clear", "vision",
    "view", "point", "line", "link", "bridge", "path", "way", "road", "street", "gate", "port",
    "harbor", "bay", "coast", "island", "mountain", "hill", "ridge", "park", "plaza", "square",
    "tower", "castle", "crown", "king", "royal", "eagle", "falcon", "hawk", "fox", "wolf", "bear",
    "lion", "tiger", "panda", "otter", "bee", "spark", "fire", "flame", "light", "bolt", "pixel",
    "byte", "code", "dev", "stack", "cube", "block", "chain", "grid", "core", "hub", "base",
    "lab", "works", "studio", "media", "press", "news", "daily", "times", "post", "mail", "chat",
    "talk", "voice", "sound", "music", "radio", "film", "photo", "art", "design", "print",
    "paper", "book", "read", "learn", "school", "academy", "kids", "family", "pet", "dog", "cat",
    "bike", "car", "auto", "motor", "drive", "ride", "jet", "rocket", "space", "planet", "solar",
    "energy", "power", "water", "build", "craft", "maker", "tools", "supply", "parts", "depot",
    "direct", "express", "plus", "pro", "max", "zone", "spot", "place", "event", "ticket", "game",
    "play", "fun", "sport", "fit", "yoga", "run", "team", "club", "league", "score", "goal",
    "money", "pay", "cash", "coin", "credit", "loan", "insure", "secure", "safe", "guard", "shield",
    "trust", "fair", "honest", "local", "civic", "public", "social", "people", "life", "living",
    "style", "fashion", "beauty", "glow", "skin", "hair", "wear", "shoe", "bag", "gift", "toy",
    "baby", "mama", "chef", "bake", "bread", "coffee", "tea", "wine", "beer", "pizza", "taco",
    "sushi", "grill", "spice", "salt", "honey", "apple", "berry", "lemon", "mint", "olive",
    "rose", "lily", "ivy", "fern", "moss", "leaf", "seed", "root", "bloom", "petal", "rain",
    "snow", "storm", "wind", "frost", "ice", "polar", "arctic", "delta", "alpha", "omega",
    "nova", "astro", "cosmo", "orbit", "quantum", "vector", "matrix", "logic", "mind", "brain",
    "think", "idea", "insight", "signal", "pulse", "echo", "beacon", "compass", "anchor", "sail",
    "ship", "cargo", "freight", "route", "transit", "rail", "metro", "cycle", "loop", "circle",
    "arc", "edge", "layer", "frame", "shape", "form", "flow", "stream", "ledger", "invoice",
    "office", "desk", "team", "crew", "hire", "job", "talent", "skill", "mentor", "coach",
)  # fmt: skip

#: Endings that turn a word into a product name.
BRAND_SUFFIXES = (
    "ly", "ify", "io", "hub", "lab", "labs", "soft", "tech", "ware", "works", "base", "stack",
    "kit", "box", "bay", "nest", "go", "now", "app", "ai", "hq", "pay", "mart", "gram", "zen",
    "verse", "scape", "flow", "wise", "mate", "ster", "able", "er", "co", "corp", "group",
    "online", "direct", "plus", "pro", "zilla", "ology", "ista", "sy", "ee", "oo", "x", "r",
    "center", "cloud", "desk", "point", "net", "web", "world", "land", "city", "market", "shop",
)  # fmt: skip

#: Syllables for coined names ("tavoro", "kelimo"): pronounceable, like consonant-vowel DGAs.
SYLLABLES = (
    "ka", "ko", "ki", "la", "lo", "li", "ma", "mo", "mi", "na", "no", "ni", "ra", "ro", "ri", "sa",
    "so", "si", "ta", "to", "ti", "va", "vo", "vi", "za", "zo", "da", "do", "di", "ba", "bo",
    "bi", "pa", "po", "pi", "fa", "fo", "ga", "go", "ne", "le", "me", "re", "se", "te", "ve",
    "tal", "vor", "kin", "mex", "ser", "lin", "dor", "nex", "zen", "tor", "ven", "lux", "rix",
    "vex", "sol", "mar", "cor", "tek", "gen", "syn", "pro", "tri", "qua", "xa", "yo", "ju",
    "ex", "ix", "on", "ar", "el", "an", "um", "us", "ia", "ea", "io", "ly", "ny", "ry", "sy",
)  # fmt: skip

#: Numbers brands carry: "office365"-style, "24/7", versions, lucky numbers.
BRAND_NUMBERS = (
    "365", "360", "24", "247", "123", "1", "2", "3", "4u", "99", "100", "101", "2go", "4me", "42",
    "7", "911", "88", "8", "500", "1000", "3d", "4k", "5g", "2000", "21", "77", "9", "10", "12",
    "2024", "1st", "4all", "4you", "64", "16", "32", "86", "66", "33", "11", "55", "808", "007",
)  # fmt: skip

#: Trades and words for small-business names ("riverside-dental", "smith-and-sons").
TRADES = (
    "group", "partners", "consulting", "solutions", "services", "systems", "dental", "law",
    "realty", "homes", "motors", "bakery", "cafe", "studio", "design", "photography", "fitness",
    "insurance", "travel", "church", "school", "club", "foundation", "association", "institute",
    "clinic", "pharmacy", "books", "farm", "winery", "brewing", "coffee", "pizza", "garage",
    "plumbing", "electric", "roofing", "cleaning", "landscaping", "tours", "rentals", "hotel",
    "inn", "resort", "academy", "architects", "accounting", "vet", "florist", "jewelers", "tattoo",
    "barber", "salon", "spa", "kitchen", "furniture", "flooring", "auto", "tires", "storage",
)  # fmt: skip
PLACES = (
    "springfield", "riverside", "lakeview", "hillcrest", "oakwood", "fairview", "greenville",
    "kingston", "westfield", "northgate", "bayside", "brookside", "cedarcrest", "maplewood",
    "pinehurst", "sunnyvale", "elmwood", "highland", "meadow", "harbor", "valley", "summit",
    "clearwater", "redhill", "stonebridge", "ashford", "milton", "newport", "bristol", "lincoln",
    "berlin", "hamburg", "munich", "lyon", "porto", "madrid", "oslo", "krakow", "leeds", "austin",
    "denver", "boston", "dallas", "seattle", "toronto", "sydney", "osaka", "delhi", "lagos",
)  # fmt: skip
SURNAMES = (
    "smith", "jones", "miller", "brown", "taylor", "wilson", "clark", "walker", "young", "hall",
    "allen", "wright", "scott", "green", "baker", "adams", "nelson", "carter", "mitchell",
    "roberts",
    "turner", "phillips", "parker", "evans", "edwards", "collins", "stewart", "morris", "murphy",
    "cook", "rogers", "morgan", "cooper", "peterson", "bailey", "reed", "kelly", "howard", "cox",
    "ward", "richardson", "watson", "brooks", "wood", "james", "bennett", "gray", "hughes",
    "price", "sanders", "meyer", "schulz", "weber", "wagner", "becker", "hoffmann", "dubois",
    "moreau", "laurent", "rossi", "russo", "bianchi", "silva", "santos", "costa", "novak",
    "kowalski", "nielsen", "jensen", "larsen", "tanaka", "suzuki", "kim", "park", "chen", "li",
)  # fmt: skip

#: Host labels under a company domain, weighted like a real resolver sees them.
SUBDOMAINS: Mapping[str, float] = {
    "www": 30, "mail": 4, "api": 5, "cdn": 4, "static": 4, "img": 2, "images": 2, "m": 3,
    "app": 3, "login": 2, "auth": 2, "portal": 2, "shop": 2, "blog": 2, "support": 2, "docs": 2,
    "status": 1, "assets": 2, "media": 2, "news": 1, "webmail": 1, "vpn": 1, "sso": 1, "dev": 1,
    "staging": 1, "ftp": 1, "autodiscover": 2, "cpanel": 1, "smtp": 1, "remote": 1, "owa": 1,
    "secure": 1, "my": 2, "account": 1, "accounts": 1, "go": 1, "links": 1, "track": 1,
    "click": 1, "email": 1, "info": 1, "search": 1, "video": 1, "static1": 1, "cdn2": 1,
    "api-v2": 1, "eu": 1, "us": 1, "de": 1, "fr": 1, "beta": 1, "admin": 1, "help": 1,
    "community": 1, "forum": 1, "careers": 1, "jobs": 1, "store": 1, "pay": 1, "checkout": 1,
    "analytics": 1, "metrics": 1, "events": 1, "push": 1, "ws": 1, "gateway": 1, "edge": 1,
    "download": 1, "downloads": 1, "update": 1, "updates": 1, "files": 1, "s3": 1, "graphql": 1,
}  # fmt: skip

CLOUD_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
    "ap-south-1", "sa-east-1", "ca-central-1", "me-south-1", "af-south-1",
)  # fmt: skip
AZURE_REGIONS = (
    "westeurope", "northeurope", "eastus", "eastus2", "westus2", "centralus", "uksouth",
    "germanywestcentral", "francecentral", "southeastasia", "japaneast", "australiaeast",
)  # fmt: skip
GCP_REGIONS = (
    "us-central1", "us-east1", "europe-west1", "europe-west3", "asia-east1", "asia-northeast1",
)  # fmt: skip
ENVIRONMENTS = ("prod", "staging", "dev", "test", "qa", "uat", "preprod", "sandbox", "int")
#: Three-letter airport codes, as CDN and ISP host names carry them.
AIRPORTS = (
    "fra", "ams", "lhr", "cdg", "iad", "sjc", "lax", "ord", "dfw", "sea", "nrt", "hkg", "sin",
    "syd", "gru", "mad", "mxp", "waw", "arn", "hel", "vie", "zrh", "dub", "bom", "icn", "yyz",
)  # fmt: skip

#: Words for internationalised names, grouped by the country-code TLDs that use them.
IDN_WORDS: Mapping[str, tuple[str, ...]] = {
    "de": ("müller", "bäcker", "bücher", "schön", "grün", "küche", "köln", "zürich", "münchen",
           "gärtner", "fahrräder", "möbel", "häuser", "brücke", "über", "tür", "höfe", "körper"),
    "at": ("wien", "grün", "bäckerei", "tischler", "möbel", "heuriger", "küche", "glück"),
    "fr": ("café", "crème", "été", "hôtel", "château", "élève", "forêt", "pâtisserie", "théâtre",
           "fenêtre", "musée", "santé", "société", "écoles", "prêt"),
    "es": ("españa", "niño", "mañana", "diseño", "cañón", "peña", "muñeca", "señor", "año",
           "cáceres", "málaga", "información", "educación"),
    "com.tr": ("şirket", "öğrenci", "çiçek", "güzel", "ışık", "kitapçı", "düğün", "yazılım"),
    "pl": ("łódź", "kraków", "sklep", "zdrowie", "życie", "księgarnia", "ogród", "żółw"),
    "рф": ("пример", "магазин", "новости", "почта", "книги", "дом", "сад", "погода", "работа",
           "банк", "кафе", "школа", "город", "музыка"),
    "cn": ("中文", "网络", "商城", "新闻", "公司", "科技", "北京", "上海", "在线", "游戏"),
    "jp": ("日本", "東京", "大阪", "ショップ", "ニュース", "会社", "旅行", "料理", "写真"),
    "gr": ("ελλάδα", "αθήνα", "καφές", "βιβλία", "ταξίδια"),
}  # fmt: skip

#: Free hosting and platform domains: honest apps live there, and so do phishing kits.
PLATFORM_HOSTS = (
    "netlify.app", "vercel.app", "github.io", "web.app", "firebaseapp.com", "pages.dev",
    "herokuapp.com", "azurewebsites.net", "blogspot.com", "wordpress.com", "webflow.io",
    "glitch.me", "onrender.com", "fly.dev", "repl.co", "r2.dev", "framer.app", "square.site",
    "godaddysites.com", "weebly.com", "000webhostapp.com", "ngrok-free.app", "surge.sh",
)  # fmt: skip

#: Brands phishing imitates, each with the domain it really uses.
BRANDS: Mapping[str, str] = {
    "paypal": "com", "apple": "com", "icloud": "com", "microsoft": "com", "office365": "com",
    "outlook": "com", "amazon": "com", "netflix": "com", "google": "com", "gmail": "com",
    "facebook": "com", "instagram": "com", "whatsapp": "com", "linkedin": "com",
    "dropbox": "com", "docusign": "net", "adobe": "com", "chase": "com", "wellsfargo": "com",
    "bankofamerica": "com", "citibank": "com", "hsbc": "co.uk", "barclays": "co.uk",
    "santander": "com", "dhl": "com", "fedex": "com", "ups": "com", "usps": "com",
    "royalmail": "com", "coinbase": "com", "binance": "com", "metamask": "io", "steam": "com",
    "roblox": "com", "spotify": "com", "ebay": "com", "walmart": "com", "costco": "com",
    "verizon": "com", "xfinity": "com", "americanexpress": "com", "mastercard": "com",
    "yahoo": "com", "zoom": "us", "telegram": "org", "discord": "com", "tiktok": "com",
    "booking": "com", "airbnb": "com", "sharepoint": "com", "onedrive": "com", "okta": "com",
    "salesforce": "com", "steampowered": "com", "blockchain": "com", "kraken": "com",
    "postbank": "de", "sparkasse": "de", "laposte": "fr", "correos": "es", "nubank": "com.br",
    "itau": "com.br", "mercadolibre": "com", "rakuten": "co.jp", "alibaba": "com",
    "aliexpress": "com",
}  # fmt: skip

#: Words phishing puts next to a brand.
LURE_WORDS = (
    "secure", "login", "signin", "verify", "verification", "account", "update", "support",
    "billing", "auth", "wallet", "recovery", "confirm", "service", "help", "alert", "unlock",
    "security", "customer", "center", "online", "portal", "id", "access", "session", "validate",
    "restore", "refund", "invoice", "payment", "delivery", "tracking", "parcel", "reward",
    "claim", "bonus", "gift", "prize", "notice", "case", "review", "web", "mobile", "app",
)  # fmt: skip

#: Latin letters and the Cyrillic letters drawn the same (а е о р с х у і ѕ ј һ).
HOMOGLYPHS: Mapping[str, str] = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ",
    "j": "ј", "h": "һ",
}  # fmt: skip
#: Letters typed in their place: the neighbours on a QWERTY keyboard.
KEYBOARD_NEIGHBOURS: Mapping[str, str] = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
    "o": "ipl", "p": "ol", "a": "qsz", "s": "adw", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy",
    "j": "hku", "k": "jli", "l": "ko", "z": "xa", "x": "zcs", "c": "xvd", "v": "cbf", "b": "vng",
    "n": "bmh", "m": "nj",
}  # fmt: skip
#: Letters and the digits or pairs that pass for them.
LOOKALIKES: Mapping[str, str] = {
    "o": "0", "l": "1", "i": "1", "e": "3", "a": "4", "s": "5", "m": "rn", "w": "vv", "g": "q",
}  # fmt: skip

#: Dynamic-DNS provider domains: free subdomains that point at a home IP, loved by RATs.
DYNAMIC_DNS = (
    "duckdns.org", "ddns.net", "hopto.org", "zapto.org", "sytes.net", "serveftp.com", "no-ip.biz",
    "dynv6.net", "freeddns.org", "myftp.biz", "servebeer.com", "ddnsking.com", "myddns.me",
    "dnsdojo.com", "linkpc.net", "publicvm.com",
)  # fmt: skip
#: Software vendors and services C2 domains pose as ("office-telemetry-cdn.com").
VENDORS = (
    "windows", "msedge", "office", "chrome", "adobe", "java", "zoom", "teams", "nvidia", "intel",
    "cisco", "vmware", "oracle", "citrix", "fortinet", "slack", "onedrive", "defender", "azure",
    "cloud", "system", "driver", "firefox", "skype", "dell", "hp", "lenovo", "sync", "edge",
)  # fmt: skip
SERVICE_WORDS = (
    "update", "updates", "telemetry", "cdn", "sync", "api", "license", "analytics", "status",
    "metrics", "cloud", "static", "services", "check", "report", "stats", "config", "connect",
    "data", "content", "assets", "mirror", "store", "health", "gateway", "push", "monitor",
)  # fmt: skip

#: Dictionary words for word-list DGAs. Mostly plain English function and everyday words, as
#: those families embed; a few overlap the brand words so neither side owns them.
DGA_WORDS = (
    "able", "about", "above", "across", "action", "after", "again", "against", "almost", "alone",
    "along", "already", "always", "among", "amount", "animal", "answer", "appear", "around",
    "arrive", "because", "become", "before", "began", "begin", "behind", "being", "believe",
    "below", "beside", "better", "between", "beyond", "board", "body", "bottom", "branch",
    "break", "brother", "brought", "careful", "carry", "caught", "cause", "center", "certain",
    "chance", "change", "charge", "check", "child", "choose", "church", "circle", "class",
    "close", "common", "company", "contain", "corner", "could", "country", "course", "cover",
    "cross", "current", "decide", "degree", "depend", "describe", "desert", "detail", "differ",
    "direct", "distant", "divide", "doctor", "during", "early", "earth", "either", "enemy",
    "enough", "enter", "equal", "evening", "every", "exact", "except", "expect", "explain",
    "famous", "father", "favor", "feeling", "figure", "final", "finger", "finish", "flower",
    "follow", "force", "forest", "forward", "found", "friend", "front", "further", "garden",
    "gather", "general", "gentle", "glass", "govern", "great", "ground", "group", "guess",
    "happen", "heard", "heart", "heavy", "history", "hold", "horse", "hundred", "hunger",
    "imagine", "include", "indeed", "inside", "instead", "island", "itself", "join", "kept",
    "kitchen", "knowledge", "large", "later", "laugh", "learn", "least", "leave", "letter",
    "level", "light", "listen", "little", "market", "master", "matter", "measure", "member",
    "method", "middle", "might", "million", "minute", "modern", "moment", "money", "month",
    "morning", "mother", "mountain", "music", "narrow", "nation", "nature", "near", "neighbor",
    "never", "night", "noise", "nothing", "notice", "number", "object", "often", "order",
    "other", "paper", "party", "people", "perhaps", "period", "picture", "piece", "place",
    "plain", "planet", "please", "pleasant", "point", "power", "present", "pretty", "problem",
    "produce", "promise", "proper", "public", "quiet", "quite", "rather", "reach", "ready",
    "reason", "record", "remember", "report", "result", "return", "river", "round", "science",
    "season", "second", "settle", "several", "shall", "should", "silent", "simple", "since",
    "single", "sister", "sleep", "small", "social", "soldier", "speak", "special", "spring",
    "stand", "start", "state", "station", "still", "story", "strange", "stream", "strong",
    "student", "study", "subject", "sudden", "summer", "support", "surface", "table", "teacher",
    "thank", "their", "there", "these", "thing", "think", "though", "thought", "three",
    "through", "today", "together", "toward", "travel", "trouble", "under", "until", "usually",
    "valley", "value", "village", "visit", "voice", "watch", "weather", "whether", "which",
    "while", "white", "whole", "window", "winter", "within", "without", "woman", "wonder",
    "world", "would", "write", "yellow", "young",
)  # fmt: skip
