"""Names, hosts, paths and URLs the PowerShell templates draw from, so every row looks different."""

from __future__ import annotations

import base64
import string
from random import Random

DOMAINS = (
    "corp.example",
    "ad.example.org",
    "internal.example.net",
    "prod.example.local",
    "emea.corp.example",
)
NETBIOS = ("CORP", "AD", "EMEA", "CONTOSO", "FABRIKAM")
ROLES = (
    "srv-web", "srv-app", "srv-sql", "srv-file", "srv-print", "dc", "fs", "ws", "lt", "vdi",
    "build", "jump", "exch", "sccm", "srv-iis", "srv-mon", "hv", "srv-api", "srv-db", "rds",
)  # fmt: skip
SITES = ("nyc", "lon", "fra", "sgp", "sfo", "ams", "tor", "syd", "par", "chi", "dal", "hq")
FIRST = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david",
    "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
    "chris", "karen", "daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark", "sandra",
    "ahmed", "mei", "raj", "olga", "lukas", "sofia", "kenji", "fatima", "carlos", "ana", "pierre",
    "ingrid",
)  # fmt: skip
LAST = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor",
    "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez",
    "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright",
    "scott", "nguyen", "hill", "flores", "green", "mueller", "schmidt", "kowalski", "tanaka",
    "singh", "patel", "chen", "wang", "kim", "rossi",
)  # fmt: skip
SERVICE_ACCOUNTS = (
    "svc_backup", "svc_sql", "svc_deploy", "svc_monitor", "svc_sccm", "svc_ansible", "svc_iis",
    "svc_patch", "svc_scan", "svc_jenkins",
)  # fmt: skip
COMPANIES = (
    "Contoso",
    "Fabrikam",
    "Northwind",
    "AdventureWorks",
    "Tailspin",
    "Litware",
    "Woodgrove",
)
APPS = (
    "Billing", "Payroll", "Inventory", "CRM", "Portal", "Reporting", "Ledger", "Scheduler",
    "Gateway", "Timesheets", "Warehouse", "HelpDesk",
)  # fmt: skip
SERVICES = (
    "Spooler", "W3SVC", "MSSQLSERVER", "SQLSERVERAGENT", "wuauserv", "BITS", "WinRM", "Dnscache",
    "WAS", "MSMQ", "TermService", "LanmanServer", "Netlogon", "W32Time", "EventLog", "CcmExec",
    "Schedule", "DHCPServer", "DNS", "NTDS", "vmms", "IISADMIN", "ContosoAgent", "BillingWorker",
    "ReportingSvc", "nscp", "datadogagent", "SplunkForwarder", "zabbix-agent", "MSExchangeIS",
)  # fmt: skip
MODULES = (
    "ActiveDirectory", "Az.Accounts", "Az.Compute", "Pester", "PSReadLine", "SqlServer",
    "PSWindowsUpdate", "dbatools", "ImportExcel", "Posh-SSH", "PowerShellGet", "PackageManagement",
    "Microsoft.Graph.Users", "ExchangeOnlineManagement", "VMware.PowerCLI", "AWS.Tools.S3",
    "WebAdministration", "PSScriptAnalyzer", "xWebAdministration", "ComputerManagementDsc",
    "NetworkingDsc", "DnsServer", "GroupPolicy", "Hyper-V", "PnP.PowerShell",
)  # fmt: skip
CHOCO_PACKAGES = (
    "git", "7zip", "notepadplusplus", "googlechrome", "firefox", "vscode", "python3",
    "nodejs-lts", "putty", "winscp", "sysinternals", "dotnet-sdk", "temurin17", "adobereader",
    "vlc", "microsoft-teams", "zoom", "powershell-core", "terraform", "azure-cli", "awscli",
    "jq", "curl", "wget", "openssh",
)  # fmt: skip
WINGET_IDS = (
    "Git.Git", "7zip.7zip", "Microsoft.VisualStudioCode", "Microsoft.PowerShell",
    "Notepad++.Notepad++", "Mozilla.Firefox", "Google.Chrome", "Python.Python.3.12",
    "Microsoft.DotNet.SDK.8", "PuTTY.PuTTY", "WinSCP.WinSCP", "Microsoft.Teams",
    "Microsoft.AzureCLI", "Amazon.AWSCLI", "Hashicorp.Terraform",
)  # fmt: skip
GROUPS = (
    "Domain Admins", "Helpdesk", "SQL Admins", "Web Operators", "Backup Operators",
    "Remote Desktop Users", "Finance-RW", "HR-ReadOnly", "Server Admins", "VPN Users",
)  # fmt: skip
ARTIFACT_HOSTS = (
    "artifacts", "nexus", "proget", "repo", "pkgs", "releases", "build", "deploy", "jfrog",
)  # fmt: skip
WORDS = (
    "cleanup", "rotate", "backup", "sync", "inventory", "patch", "health", "report", "deploy",
    "audit", "archive", "monitor", "refresh", "export", "import", "collect", "compliance",
)  # fmt: skip
EVIL_PREFIXES = (
    "update", "cdn", "secure", "login", "micro", "soft", "cloud", "static", "api", "files",
    "docs", "office", "win", "sys", "data", "sync", "msft", "azure", "onedrive", "share",
)  # fmt: skip
EVIL_SUFFIXES = (
    "-check", "-srv", "host", "zone", "box", "hub", "-net", "-cdn", "store", "-api", "labs",
    "point", "-update", "mail", "verify", "-sync", "",
)  # fmt: skip
EVIL_TLDS = (
    ".xyz", ".top", ".info", ".ru", ".net", ".com", ".site", ".online", ".club", ".live", ".cc",
    ".io", ".biz", ".pw", ".su",
)  # fmt: skip
PUBLIC_FIRST_OCTETS = (
    5, 23, 31, 37, 45, 46, 62, 77, 78, 79, 80, 81, 85, 89, 91, 93, 94, 95, 103, 104, 107, 109,
    141, 146, 149, 151, 154, 155, 158, 159, 162, 167, 176, 178, 185, 188, 193, 194, 195, 212,
    213, 217,
)  # fmt: skip
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Microsoft-CryptoAPI/10.0",
)
_ALNUM = string.ascii_letters + string.digits


def token(rng: Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choices(alphabet, k=n))


def host(rng: Random, fqdn: float = 0.55) -> str:
    name = f"{rng.choice(ROLES)}-{rng.choice(SITES)}-{rng.randint(1, 250):03d}"
    if rng.random() < 0.15:
        name = name.upper()
    return f"{name}.{rng.choice(DOMAINS)}" if rng.random() < fqdn else name


def user(rng: Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    style = rng.randrange(5)
    if style == 0:
        return f"{first}.{last}"
    if style == 1:
        return f"{first[0]}{last}"
    if style == 2:
        return f"adm-{first[0]}{last}"
    if style == 3:
        return rng.choice(SERVICE_ACCOUNTS)
    return f"{last}{first[0]}"


def domain_user(rng: Random) -> str:
    return f"{rng.choice(NETBIOS)}\\{user(rng)}"


def internal_ip(rng: Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"10.{rng.randint(0, 254)}.{rng.randint(0, 254)}.{rng.randint(1, 254)}"
    if kind == 1:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 254)}.{rng.randint(1, 254)}"
    return f"192.168.{rng.randint(0, 254)}.{rng.randint(1, 254)}"


def public_ip(rng: Random) -> str:
    return (
        f"{rng.choice(PUBLIC_FIRST_OCTETS)}.{rng.randint(0, 255)}."
        f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def internal_host(rng: Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"{rng.choice(ARTIFACT_HOSTS)}.{rng.choice(DOMAINS)}"
    if kind == 1:
        return internal_ip(rng)
    return host(rng, fqdn=1.0)


def internal_url(rng: Random, path: str | None = None) -> str:
    scheme = "https" if rng.random() < 0.75 else "http"
    port = rng.choice(("", "", "", ":8443", ":8080", ":8081", ":5000", ":9090"))
    if path is None:
        path = rng.choice(
            (
                "/health",
                "/api/v1/status",
                "/api/health",
                f"/api/v2/{rng.choice(WORDS)}",
                "/healthz",
                f"/{rng.choice(APPS).lower()}/ping",
            )
        )
    return f"{scheme}://{internal_host(rng)}{port}{path}"


def artifact_url(rng: Random) -> str:
    app = rng.choice(APPS)
    version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 300)}"
    ext = rng.choice(("zip", "msi", "nupkg", "zip", "exe", "ps1", "tar.gz"))
    repo = rng.choice(("releases", "builds", "thirdparty", "choco-internal", "nuget-hosted"))
    host_name = f"{rng.choice(ARTIFACT_HOSTS)}.{rng.choice(DOMAINS)}"
    return f"https://{host_name}/repository/{repo}/{app}/{version}/{app}-{version}.{ext}"


def evil_domain(rng: Random) -> str:
    digits = str(rng.randint(1, 99)) if rng.random() < 0.3 else ""
    return f"{rng.choice(EVIL_PREFIXES)}{rng.choice(EVIL_SUFFIXES)}{digits}{rng.choice(EVIL_TLDS)}"


def payload_url(rng: Random, ext: str | None = None) -> str:
    """Where a payload is fetched from: mostly external, sometimes a compromised internal host."""
    if ext is None:
        ext = rng.choice((".ps1", ".ps1", ".txt", ".png", ".jpg", "", ".php", ".html", ".dat"))
    name = rng.choice(
        ("a", "p", "s", "update", "stage2", "news", "index", "check", "img", "load", "x")
    ) + (str(rng.randint(1, 9)) if rng.random() < 0.3 else "")
    r = rng.random()
    if r < 0.45:
        scheme = "https" if rng.random() < 0.5 else "http"
        return f"{scheme}://{evil_domain(rng)}/{name}{ext}"
    if r < 0.75:
        port = rng.choice(("", ":8080", ":443", ":8000", ":4444", ":80", ":8443"))
        return f"http://{public_ip(rng)}{port}/{name}{ext}"
    if r < 0.87:
        return rng.choice(
            (
                f"https://raw.githubusercontent.com/{token(rng, 8).lower()}/"
                f"{token(rng, 6).lower()}/main/{name}{ext}",
                f"https://pastebin.com/raw/{token(rng, 8)}",
                f"https://transfer.sh/{token(rng, 6)}/{name}{ext}",
                f"https://cdn.discordapp.com/attachments/{rng.randint(10**17, 10**18)}/{name}{ext}",
            )
        )
    return f"http://{internal_ip(rng)}:{rng.choice((80, 8000, 8080, 443))}/{name}{ext}"


def guid(rng: Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def date(rng: Random, compact: bool = False) -> str:
    y, m, d = rng.choice((2023, 2024, 2025)), rng.randint(1, 12), rng.randint(1, 28)
    return f"{y}{m:02d}{d:02d}" if compact else f"{y}-{m:02d}-{d:02d}"


def script_path(rng: Random) -> str:
    kind = rng.choice(
        ("nightly", "daily", "weekly", "hourly", "logs", "disk", "db", "certs", "temp")
    )
    name = f"{rng.choice(WORDS)}-{kind}"
    folder = rng.choice(
        (
            "C:\\Scripts",
            f"C:\\ProgramData\\{rng.choice(COMPANIES)}\\Scripts",
            f"C:\\Program Files\\{rng.choice(COMPANIES)}\\{rng.choice(APPS)}\\scripts",
            "D:\\Ops\\Scripts",
            f"\\\\{host(rng, fqdn=1.0)}\\NETLOGON",
            f"C:\\Admin\\{rng.choice(WORDS).title()}",
        )
    )
    return f"{folder}\\{name}.ps1"


def exe_name(rng: Random) -> str:
    return rng.choice(
        (
            "svchost.exe", "update.exe", "OneDriveUpdater.exe", "msedge_update.exe", "winlogin.exe",
            "chrome_installer.exe", "taskhostw.exe", f"{token(rng, 6).lower()}.exe", "rundll.exe",
            "AdobeARM.exe", "teams_update.exe",
        )
    )  # fmt: skip


def drop_dir(rng: Random) -> str:
    return rng.choice(
        (
            "$env:TEMP",
            "$env:APPDATA",
            "$env:PUBLIC",
            "$env:LOCALAPPDATA\\Temp",
            "C:\\Users\\Public",
            "C:\\ProgramData",
            "C:\\Windows\\Temp",
            "$env:APPDATA\\Microsoft\\Windows",
        )
    )


def random_b64(rng: Random, low: int, high: int, prefix: bytes = b"") -> str:
    return base64.b64encode(prefix + rng.randbytes(rng.randint(low, high))).decode("ascii")


#: The first bytes of a Windows PE file: base64 of these is the well-known ``TVqQAAMAAAAEAAAA``.
PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00"
#: Typical first bytes of msfvenom / Cobalt Strike x64 and x86 stagers.
SHELLCODE_PREFIXES = (
    b"\xfc\x48\x83\xe4\xf0\xe8",
    b"\xfc\xe8\x82\x00\x00\x00",
    b"\xfc\xe8\x89\x00\x00\x00",
)
