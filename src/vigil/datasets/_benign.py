"""Benign admin PowerShell, including the launch flags and downloads that also look suspicious."""

# Templates are whole command lines, kept on one line each so a reader sees what is generated.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable
from random import Random

from vigil.datasets import _vocab as v


def service_management(rng: Random) -> str:
    svc, host = rng.choice(v.SERVICES), v.host(rng)
    k = rng.randrange(10)
    if k == 0:
        return f"Get-Service -Name {svc}"
    if k == 1:
        return f"Restart-Service -Name {svc} -Force"
    if k == 2:
        return f"Get-Service -Name {svc} -ComputerName {host} | Restart-Service -Force"
    if k == 3:
        return f"Start-Service {svc}; Set-Service -Name {svc} -StartupType Automatic"
    if k == 4:
        return f"Stop-Service -Name {svc} -Force -ErrorAction SilentlyContinue"
    if k == 5:
        return (
            "Get-Service | Where-Object { $_.StartType -eq 'Automatic' -and $_.Status -ne "
            "'Running' } | Start-Service -ErrorAction SilentlyContinue"
        )
    if k == 6:
        return f"(Get-Service -Name {svc}).WaitForStatus('Running', '00:0{rng.randint(1, 5)}:00')"
    if k == 7:
        return f"Get-CimInstance Win32_Service -Filter \"Name='{svc}'\" | Select-Object Name, State, StartName"
    if k == 8:
        return f"sc.exe config {svc} start= delayed-auto; sc.exe failure {svc} reset= 86400 actions= restart/60000"
    return (
        f"Invoke-Command -ComputerName {host} -ScriptBlock {{ Restart-Service -Name {svc} -Force }}"
    )


def system_inventory(rng: Random) -> str:
    host = v.host(rng, fqdn=1.0)
    k = rng.randrange(8)
    if k == 0:
        return (
            "Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version, LastBootUpTime"
        )
    if k == 1:
        return "Get-ComputerInfo -Property OsName, OsVersion, CsTotalPhysicalMemory, CsProcessors"
    if k == 2:
        return f"Get-Process | Sort-Object CPU -Descending | Select-Object -First {rng.randint(5, 25)} Name, Id, CPU, WS"
    if k == 3:
        return (
            'Get-CimInstance Win32_LogicalDisk -Filter "DriveType=3" | Select-Object DeviceID, '
            "@{n='FreeGB';e={[math]::Round($_.FreeSpace/1GB,1)}}"
        )
    if k == 4:
        return (
            "Get-ItemProperty HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\* | "
            f"Select-Object DisplayName, DisplayVersion | Export-Csv \\\\{host}\\inventory$\\"
            f"$env:COMPUTERNAME.csv -NoTypeInformation"
        )
    if k == 5:
        return "Get-HotFix | Sort-Object InstalledOn -Descending | Select-Object -First 5"
    if k == 6:
        return f"Get-CimInstance -ClassName Win32_BIOS -ComputerName {host} | Select-Object SerialNumber, SMBIOSBIOSVersion"
    return f"systeminfo /fo csv | ConvertFrom-Csv | Select-Object 'Host Name', 'OS Name', 'System Boot Time' | Export-Csv C:\\Temp\\sysinfo_{v.date(rng, True)}.csv"


def registry_settings(rng: Random) -> str:
    company, app = rng.choice(v.COMPANIES), rng.choice(v.APPS)
    k = rng.randrange(9)
    if k == 0:
        setting = rng.choice(("LogLevel", "Endpoint", "MaxWorkers", "Environment", "RetryCount"))
        value = rng.choice(("3", "'Production'", f"'https://{v.internal_host(rng)}'", "8"))
        return f"Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\{company}\\{app}' -Name '{setting}' -Value {value}"
    if k == 1:
        return f"New-Item -Path 'HKLM:\\SOFTWARE\\Policies\\{company}\\{app}' -Force | Out-Null"
    if k == 2:
        zone = rng.choice(
            ("W. Europe Standard Time", "Eastern Standard Time", "UTC", "Singapore Standard Time")
        )
        return f"Set-TimeZone -Id '{zone}'"
    if k == 3:
        return f"Set-NetFirewallRule -DisplayGroup '{rng.choice(('Remote Desktop', 'Windows Remote Management', 'File and Printer Sharing'))}' -Enabled True"
    if k == 4:
        return f"Set-DnsClientServerAddress -InterfaceAlias Ethernet -ServerAddresses {v.internal_ip(rng)},{v.internal_ip(rng)}"
    if k == 5:
        scope = rng.choice(("LocalMachine", "CurrentUser", "Process"))
        policy = rng.choice(("RemoteSigned", "Bypass", "AllSigned", "RemoteSigned"))
        return f"Set-ExecutionPolicy {policy} -Scope {scope} -Force"
    if k == 6:
        return "Set-ItemProperty -Path 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server' -Name fDenyTSConnections -Value 0"
    if k == 7:
        return f"Set-Item WSMan:\\localhost\\Client\\TrustedHosts -Value '*.{rng.choice(v.DOMAINS)}' -Force"
    return "Enable-PSRemoting -Force -SkipNetworkProfileCheck"


def package_install(rng: Random) -> str:
    pkg, mod = rng.choice(v.CHOCO_PACKAGES), rng.choice(v.MODULES)
    k = rng.randrange(11)
    if k == 0:
        return f"choco install {pkg} -y --no-progress"
    if k == 1:
        return f"choco upgrade {pkg} -y --version {rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
    if k == 2:
        return f"winget install --id {rng.choice(v.WINGET_IDS)} -e --silent --accept-package-agreements --accept-source-agreements"
    if k == 3:
        return f"Install-Module -Name {mod} -Scope AllUsers -Force -AllowClobber"
    if k == 4:
        return "Install-PackageProvider -Name NuGet -MinimumVersion 2.8.5.201 -Force"
    if k == 5:
        url = (
            f"https://{rng.choice(v.ARTIFACT_HOSTS)}.{rng.choice(v.DOMAINS)}/repository/psgallery/"
        )
        return f"Register-PSRepository -Name Internal -SourceLocation {url} -InstallationPolicy Trusted; Install-Module {mod} -Repository Internal"
    if k == 6:
        return f"msiexec.exe /i \\\\{v.host(rng, fqdn=1.0)}\\software$\\{pkg}.msi /qn /norestart /l*v C:\\Windows\\Temp\\{pkg}_install.log"
    if k == 7:
        return f"Start-Process msiexec.exe -ArgumentList '/i C:\\Temp\\{pkg}.msi /qn /norestart' -Wait -NoNewWindow"
    if k == 8:
        # The official Chocolatey bootstrap: a download cradle admins really run.
        return (
            "Set-ExecutionPolicy Bypass -Scope Process -Force; [System.Net.ServicePointManager]"
            "::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor 3072; "
            "iex ((New-Object System.Net.WebClient).DownloadString('https://community.chocolatey.org/install.ps1'))"
        )
    if k == 9:
        url = f"https://{rng.choice(v.ARTIFACT_HOSTS)}.{rng.choice(v.DOMAINS)}/repository/choco-bootstrap/install.ps1"
        return f"iex ((New-Object System.Net.WebClient).DownloadString('{url}'))"
    return (
        f"Update-Module -Name {mod} -Force; Get-InstalledModule {mod} | Select-Object Name, Version"
    )


def disk_cleanup(rng: Random) -> str:
    days = rng.choice((7, 14, 30, 60, 90))
    path = rng.choice(
        (
            "C:\\Windows\\Temp",
            "D:\\Logs",
            "C:\\inetpub\\logs\\LogFiles",
            "E:\\Staging",
            "C:\\ProgramData\\App\\cache",
        )
    )
    k = rng.randrange(7)
    if k == 0:
        return (
            f"Get-ChildItem -Path {path} -Recurse -File | Where-Object {{ $_.LastWriteTime -lt "
            f"(Get-Date).AddDays(-{days}) }} | Remove-Item -Force -ErrorAction SilentlyContinue"
        )
    if k == 1:
        return 'Remove-Item -Path "$env:TEMP\\*" -Recurse -Force -ErrorAction SilentlyContinue'
    if k == 2:
        return f"cleanmgr.exe /sagerun:{rng.randint(1, 99)}"
    if k == 3:
        return "Clear-RecycleBin -DriveLetter C -Force -ErrorAction SilentlyContinue"
    if k == 4:
        return "Dism.exe /Online /Cleanup-Image /StartComponentCleanup /ResetBase"
    if k == 5:
        return "Stop-Service wuauserv; Remove-Item C:\\Windows\\SoftwareDistribution\\Download\\* -Recurse -Force; Start-Service wuauserv"
    return f"Optimize-Volume -DriveLetter {rng.choice('CDE')} -ReTrim -Verbose"


def log_rotation(rng: Random) -> str:
    days = rng.choice((7, 14, 30))
    logdir = rng.choice(
        (
            "D:\\Logs\\App",
            "C:\\inetpub\\logs\\LogFiles\\W3SVC1",
            f"C:\\ProgramData\\{rng.choice(v.COMPANIES)}\\logs",
            "E:\\AppLogs",
        )
    )
    archive = f"\\\\{v.host(rng, fqdn=1.0)}\\logarchive$\\{rng.choice(v.APPS)}"
    stamp = v.date(rng, compact=True)
    k = rng.randrange(5)
    if k == 0:
        return (
            f"$cutoff = (Get-Date).AddDays(-{days}); Get-ChildItem '{logdir}' -Filter *.log | "
            f"Where-Object {{ $_.LastWriteTime -lt $cutoff }} | Compress-Archive -DestinationPath "
            f"'{archive}\\logs_{stamp}.zip' -Update"
        )
    if k == 1:
        return f"Get-ChildItem {logdir} -Filter *.log | Where-Object LastWriteTime -lt (Get-Date).AddDays(-{days}) | Move-Item -Destination {archive}"
    if k == 2:
        log = rng.choice(("Application", "System", "Security", "Setup"))
        return f"wevtutil epl {log} D:\\EventArchive\\{log}_{stamp}.evtx"
    if k == 3:
        return f'Get-ChildItem {logdir} -Recurse -Include *.log,*.txt | Where-Object {{ $_.Length -gt 100MB }} | ForEach-Object {{ Compress-Archive $_.FullName "$($_.FullName).zip"; Remove-Item $_.FullName }}'
    return f"Limit-EventLog -LogName Application -MaximumSize {rng.choice((64, 128, 256))}MB -OverflowAction OverwriteAsNeeded"


def backup_job(rng: Random) -> str:
    src = rng.choice(
        (
            "D:\\Data",
            "E:\\Shares\\Finance",
            "C:\\inetpub\\wwwroot",
            "D:\\SQLBackups",
            "C:\\Users\\Public\\Documents",
        )
    )
    fs = v.host(rng, fqdn=1.0)
    stamp = v.date(rng, compact=True)
    k = rng.randrange(6)
    if k == 0:
        return f"robocopy {src} \\\\{fs}\\backup$\\%COMPUTERNAME% /MIR /Z /R:3 /W:5 /NP /LOG:C:\\Logs\\robocopy_{stamp}.log"
    if k == 1:
        return f'robocopy "{src}" "\\\\{fs}\\backup$\\{rng.choice(v.APPS)}" /E /COPY:DAT /MT:16 /R:2 /W:10'
    if k == 2:
        return f"Compress-Archive -Path {src}\\* -DestinationPath \\\\{fs}\\backup$\\{rng.choice(v.APPS)}_{stamp}.zip -CompressionLevel Optimal"
    if k == 3:
        return f"wbadmin start backup -backupTarget:\\\\{fs}\\wsb -include:C: -allCritical -quiet"
    if k == 4:
        return f"Copy-Item -Path {src} -Destination \\\\{fs}\\backup$\\{stamp} -Recurse -Force"
    return f"Get-ChildItem \\\\{fs}\\backup$ -Directory | Sort-Object CreationTime | Select-Object -SkipLast 14 | Remove-Item -Recurse -Force"


def windows_update(rng: Random) -> str:
    kb = f"KB{rng.randint(4000000, 5049999)}"
    k = rng.randrange(7)
    if k == 0:
        return "Install-Module PSWindowsUpdate -Force; Get-WindowsUpdate -MicrosoftUpdate -AcceptAll -Install -IgnoreReboot"
    if k == 1:
        return f"Get-WindowsUpdate -AcceptAll -Install -IgnoreReboot | Out-File C:\\Logs\\wu_{v.date(rng, True)}.log"
    if k == 2:
        return "UsoClient.exe StartScan"
    if k == 3:
        return f"Get-HotFix -Id {kb} -ComputerName {v.host(rng)}"
    if k == 4:
        return f"Install-WindowsUpdate -KBArticleID {kb} -AcceptAll -IgnoreReboot"
    if k == 5:
        return "(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher().Search('IsInstalled=0').Updates.Count"
    return f"wusa.exe C:\\Patches\\windows10.0-{kb.lower()}-x64.msu /quiet /norestart"


def config_management(rng: Random) -> str:
    name = rng.choice(("WebServer", "BaseLine", "SqlNode", "FileServer", "Hardening", "IISConfig"))
    k = rng.randrange(8)
    if k == 0:
        return f"Start-DscConfiguration -Path C:\\DSC\\{name} -Wait -Verbose -Force"
    if k == 1:
        return "Test-DscConfiguration -Detailed | Select-Object InDesiredState, ResourcesNotInDesiredState"
    if k == 2:
        return "Get-DscConfigurationStatus | Select-Object Status, StartDate, Type, Mode"
    if k == 3:
        return "& 'C:\\Program Files\\Puppet Labs\\Puppet\\bin\\puppet.bat' agent --test --detailed-exitcodes"
    if k == 4:
        return f"& 'C:\\opscode\\chef\\bin\\chef-client.bat' -o 'recipe[{name.lower()}::default]' --once"
    if k == 5:
        # What Ansible's win_ping module runs.
        return "$ErrorActionPreference = 'Stop'; $data = 'pong'; @{ changed = $false; ping = $data } | ConvertTo-Json -Compress"
    if k == 6:
        return "Update-DscConfiguration -Wait -Verbose; Get-DscLocalConfigurationManager | Select-Object ConfigurationMode, RefreshMode"
    return f"Set-Location C:\\ProgramData\\{rng.choice(v.COMPANIES)}\\salt; & .\\salt-call.bat state.apply {name.lower()}"


def module_import(rng: Random) -> str:
    mod = rng.choice(v.MODULES)
    k = rng.randrange(6)
    if k == 0:
        return f"Import-Module {mod}"
    if k == 1:
        return f"Import-Module -Name {mod} -MinimumVersion {rng.randint(1, 5)}.{rng.randint(0, 9)}"
    if k == 2:
        return f"Import-Module 'C:\\Program Files\\{rng.choice(v.COMPANIES)}\\Modules\\{mod}\\{mod}.psd1' -Force"
    if k == 3:
        return f"Get-Module -ListAvailable -Name {mod} | Sort-Object Version -Descending | Select-Object -First 1"
    if k == 4:
        return f"Import-Module SqlServer -DisableNameChecking; Import-Module {mod}"
    return f'Import-Module "$env:ProgramFiles\\WindowsPowerShell\\Modules\\{mod}" -Verbose'


_REMOTE_COMMANDS = (
    "Get-Service W3SVC",
    "Restart-Service Spooler -Force",
    "Get-Process | Sort-Object WS -Descending | Select-Object -First 5",
    "gpupdate /force",
    "Get-HotFix | Select-Object -Last 3",
    "Get-PSDrive C | Select-Object Used, Free",
    "Test-Path C:\\Deploy\\app.config",
    "Get-EventLog -LogName System -Newest 20 -EntryType Error",
)


def remoting(rng: Random) -> str:
    h1, h2, user = v.host(rng, fqdn=1.0), v.host(rng, fqdn=1.0), v.domain_user(rng)
    cmd = rng.choice(_REMOTE_COMMANDS)
    k = rng.randrange(7)
    if k == 0:
        return f"Invoke-Command -ComputerName {h1},{h2} -ScriptBlock {{ {cmd} }}"
    if k == 1:
        return f"Invoke-Command -ComputerName {h1} -Credential (Get-Credential {user}) -ScriptBlock {{ {cmd} }}"
    if k == 2:
        return f"Enter-PSSession -ComputerName {h1} -Credential {user}"
    if k == 3:
        return (
            f"$s = New-PSSession -ComputerName {h1} -UseSSL; Copy-Item -Path C:\\Deploy\\{rng.choice(v.APPS)}.zip "
            "-Destination C:\\Deploy -ToSession $s; Remove-PSSession $s"
        )
    if k == 4:
        return f"Invoke-Command -ComputerName (Get-Content C:\\Scripts\\servers.txt) -FilePath {v.script_path(rng)} -ThrottleLimit {rng.choice((16, 32, 64))}"
    if k == 5:
        return f"Enter-PSSession {h1}"
    return f"Invoke-Command -ComputerName {h1} -ScriptBlock {{ param($n) Restart-Service $n }} -ArgumentList {rng.choice(v.SERVICES)}"


def ad_query(rng: Random) -> str:
    user, group = v.user(rng), rng.choice(v.GROUPS)
    site = rng.choice(v.SITES).upper()
    k = rng.randrange(8)
    if k == 0:
        return f"Get-ADUser -Identity {user} -Properties LastLogonDate, PasswordLastSet, Enabled, LockedOut"
    if k == 1:
        return (
            f"Get-ADUser -Filter 'Enabled -eq $true' -SearchBase 'OU=Users,OU={site},DC=corp,DC=example' "
            "-Properties LastLogonDate | Where-Object { $_.LastLogonDate -lt (Get-Date).AddDays(-90) } | "
            f"Select-Object SamAccountName, LastLogonDate | Export-Csv C:\\Reports\\stale_{v.date(rng, True)}.csv -NoTypeInformation"
        )
    if k == 2:
        return (
            f"Get-ADGroupMember -Identity '{group}' -Recursive | Select-Object Name, SamAccountName"
        )
    if k == 3:
        return "Search-ADAccount -LockedOut | Select-Object Name, LastLogonDate, LockedOut"
    if k == 4:
        return f"Unlock-ADAccount -Identity {user}; Set-ADUser {user} -Replace @{{info='unlocked by helpdesk {v.date(rng)}'}}"
    if k == 5:
        return "Get-ADComputer -Filter \"OperatingSystem -like '*Server*'\" -Properties OperatingSystem, LastLogonDate"
    if k == 6:
        return f"Add-ADGroupMember -Identity '{group}' -Members {user}"
    return (
        "Get-ADDomainController -Filter * | Select-Object Name, Site, IPv4Address, OperatingSystem"
    )


def iis_admin(rng: Random) -> str:
    app = rng.choice(v.APPS)
    pool = f"{app}AppPool"
    k = rng.randrange(7)
    if k == 0:
        return f"Import-Module WebAdministration; Restart-WebAppPool -Name '{pool}'"
    if k == 1:
        return "Get-Website | Where-Object { $_.State -ne 'Started' } | Select-Object Name, State, PhysicalPath"
    if k == 2:
        return f"Stop-Website -Name '{app}'; Start-Sleep -Seconds 5; Start-Website -Name '{app}'"
    if k == 3:
        return f"New-WebBinding -Name '{app}' -Protocol https -Port 443 -HostHeader {app.lower()}.{rng.choice(v.DOMAINS)} -SslFlags 1"
    if k == 4:
        return "iisreset /noforce /timeout:60"
    if k == 5:
        return "Get-ChildItem IIS:\\AppPools | Select-Object Name, State, ManagedRuntimeVersion"
    return f"Set-ItemProperty IIS:\\AppPools\\{pool} -Name processModel.identityType -Value ApplicationPoolIdentity"


def sql_maintenance(rng: Random) -> str:
    host, db = v.host(rng), rng.choice(v.APPS) + rng.choice(("DB", "", "_Prod", "Warehouse"))
    share = f"\\\\{v.host(rng, fqdn=1.0)}\\sqlbackup$"
    stamp = v.date(rng, compact=True)
    k = rng.randrange(6)
    if k == 0:
        return f"Backup-SqlDatabase -ServerInstance '{host}' -Database {db} -BackupFile '{share}\\{db}_{stamp}.bak' -CompressionOption On"
    if k == 1:
        return f"Invoke-Sqlcmd -ServerInstance {host} -Database {db} -Query 'EXEC sp_updatestats' -QueryTimeout 600"
    if k == 2:
        return f"Backup-DbaDatabase -SqlInstance {host} -Database {db} -Path {share} -Type Full -CompressBackup"
    if k == 3:
        return (
            f'Invoke-Sqlcmd -ServerInstance {host} -Query "DBCC CHECKDB ([{db}]) WITH NO_INFOMSGS"'
        )
    if k == 4:
        return (
            f"sqlcmd -S {host} -E -Q \"BACKUP LOG [{db}] TO DISK='{share}\\{db}_log_{stamp}.trn'\""
        )
    return f"Get-DbaLastBackup -SqlInstance {host} | Where-Object LastFullBackup -lt (Get-Date).AddDays(-1)"


def internal_health_check(rng: Random) -> str:
    url = v.internal_url(rng)
    svc = rng.choice(v.SERVICE_ACCOUNTS)
    k = rng.randrange(7)
    if k == 0:
        return f"Invoke-WebRequest -Uri {url} -UseBasicParsing -TimeoutSec 10 | Select-Object -ExpandProperty StatusCode"
    if k == 1:
        return f"(Invoke-RestMethod -Uri {url} -Method Get).status"
    if k == 2:
        # Basic auth headers are the everyday legitimate use of ToBase64String.
        return (
            f'$auth = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes("{svc}:$env:API_TOKEN")); '
            f'Invoke-RestMethod -Uri {url} -Headers @{{Authorization = "Basic $auth"}}'
        )
    if k == 3:
        return f"Test-NetConnection -ComputerName {v.internal_host(rng)} -Port {rng.choice((443, 1433, 5985, 3389, 8080))} -InformationLevel Quiet"
    if k == 4:
        return (
            f"$r = Invoke-WebRequest {url} -UseDefaultCredentials -UseBasicParsing; if ($r.StatusCode -ne 200) "
            f"{{ Send-MailMessage -SmtpServer smtp.{rng.choice(v.DOMAINS)} -To ops@example.com -From monitor@example.com -Subject 'health check failed' }}"
        )
    if k == 5:
        return f"iwr {url} -UseBasicParsing | Select-Object StatusCode, StatusDescription"
    return f"Invoke-RestMethod -Uri {v.internal_url(rng, '/api/v1/heartbeat')} -Method Post -Body (@{{host=$env:COMPUTERNAME}} | ConvertTo-Json) -ContentType 'application/json'"


def artifact_download(rng: Random) -> str:
    url = v.artifact_url(rng)
    name = url.rsplit("/", 1)[-1]
    dst = rng.choice(
        ("C:\\Temp", "C:\\Deploy", "D:\\Staging", "$env:TEMP", "C:\\ProgramData\\Deploy")
    )
    k = rng.randrange(8)
    if k == 0:
        return f"Invoke-WebRequest -Uri {url} -OutFile {dst}\\{name} -UseBasicParsing"
    if k == 1:
        return f"(New-Object Net.WebClient).DownloadFile('{url}', '{dst}\\{name}')"
    if k == 2:
        return f"Start-BitsTransfer -Source {url} -Destination {dst}\\{name}"
    if k == 3:
        return (
            f"$wc = New-Object System.Net.WebClient; $wc.UseDefaultCredentials = $true; "
            f"$wc.DownloadFile('{url}', '{dst}\\{name}')"
        )
    if k == 4:
        return f"Invoke-WebRequest {url} -OutFile {dst}\\{name}; Expand-Archive -Path {dst}\\{name} -DestinationPath {dst}\\{rng.choice(v.APPS)} -Force"
    if k == 5:
        return (
            f"Invoke-WebRequest -Uri {url} -OutFile {dst}\\setup.msi; Start-Process msiexec.exe "
            f"-ArgumentList '/i {dst}\\setup.msi /qn /norestart' -Wait"
        )
    if k == 6:
        # Public vendor downloads happen too; the URL alone does not decide.
        ver = f"7.{rng.randint(2, 4)}.{rng.randint(0, 6)}"
        return f"Invoke-WebRequest -Uri https://github.com/PowerShell/PowerShell/releases/download/v{ver}/PowerShell-{ver}-win-x64.msi -OutFile {dst}\\pwsh.msi"
    return f"Invoke-RestMethod -Uri {url} -OutFile {dst}\\{name} -Headers @{{'X-JFrog-Art-Api' = $env:ARTIFACTORY_KEY}}"


def certificate_management(rng: Random) -> str:
    fqdn = v.host(rng, fqdn=1.0)
    k = rng.randrange(9)
    if k == 7:
        # Deployment pipelines hand certificates over as base64 secrets.
        return f"[IO.File]::WriteAllBytes('C:\\Certs\\{fqdn}.pfx', [Convert]::FromBase64String($env:PFX_BASE64)); Import-PfxCertificate -FilePath C:\\Certs\\{fqdn}.pfx -CertStoreLocation Cert:\\LocalMachine\\My -Password (ConvertTo-SecureString $env:PFX_PASSWORD -AsPlainText -Force)"
    if k == 8:
        # An internal root CA certificate embedded in a provisioning script (DER starts 0x30 0x82).
        der = v.random_b64(rng, 300, 700, b"\x30\x82\x03\x1d\x30\x82\x02\x05\xa0\x03\x02\x01\x02")
        return (
            f"$der = [Convert]::FromBase64String('{der}'); $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($der); "
            "$store = New-Object System.Security.Cryptography.X509Certificates.X509Store('Root', 'LocalMachine'); $store.Open('ReadWrite'); $store.Add($cert); $store.Close()"
        )
    if k == 0:
        return (
            f"Get-ChildItem Cert:\\LocalMachine\\My | Where-Object {{ $_.NotAfter -lt (Get-Date).AddDays({rng.choice((14, 30, 45, 60))}) }} "
            "| Select-Object Subject, NotAfter, Thumbprint"
        )
    if k == 1:
        return f"Get-Certificate -Template {rng.choice(('WebServer', 'Computer', 'CorpTLS'))} -DnsName {fqdn} -CertStoreLocation Cert:\\LocalMachine\\My"
    if k == 2:
        return "certutil -pulse; certutil -store My"
    if k == 3:
        return f"Import-PfxCertificate -FilePath C:\\Certs\\{fqdn}.pfx -CertStoreLocation Cert:\\LocalMachine\\My -Password (Get-Credential -UserName pfx -Message 'PFX password').Password"
    if k == 4:
        return "& 'C:\\Program Files\\win-acme\\wacs.exe' --renew --baseuri https://acme-v02.api.letsencrypt.org/ --verbose"
    if k == 5:
        return f'certreq -submit -config "{v.host(rng, fqdn=1.0)}\\Corp Issuing CA" C:\\Certs\\{fqdn}.req C:\\Certs\\{fqdn}.cer'
    return f"$b64 = [Convert]::ToBase64String((Get-Item Cert:\\LocalMachine\\My\\{v.token(rng, 40, '0123456789ABCDEF')}).RawData); Set-Content C:\\Certs\\export.b64 $b64"


def event_log_query(rng: Random) -> str:
    log = rng.choice(
        ("System", "Application", "Security", "Microsoft-Windows-PowerShell/Operational", "Setup")
    )
    n = rng.choice((20, 50, 100, 500))
    k = rng.randrange(6)
    if k == 0:
        return f"Get-WinEvent -FilterHashtable @{{LogName='{log}'; Level={rng.randint(1, 3)}; StartTime=(Get-Date).AddHours(-{rng.choice((1, 6, 24, 72))})}} -MaxEvents {n}"
    if k == 1:
        return f"Get-EventLog -LogName {rng.choice(('System', 'Application'))} -Newest {n} -EntryType Error"
    if k == 2:
        return f"Get-WinEvent -ComputerName {v.host(rng)} -LogName '{log}' -MaxEvents {n} | Format-Table TimeCreated, Id, Message -AutoSize"
    if k == 3:
        return f"wevtutil qe {rng.choice(('System', 'Application'))} /c:{n} /rd:true /f:text"
    if k == 4:
        return f"Get-WinEvent -FilterHashtable @{{LogName='Security'; Id={rng.choice((4625, 4740, 4624, 4672))}}} -MaxEvents {n} | Export-Csv C:\\Reports\\security_{v.date(rng, True)}.csv"
    return f"Get-WinEvent -ListLog * | Where-Object RecordCount -gt 0 | Sort-Object LastWriteTime -Descending | Select-Object -First {n // 10}"


def management_agent_launch(rng: Random) -> str:
    g1, g2 = v.guid(rng), v.guid(rng)
    exe = rng.choice(
        (
            '"C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"',
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "powershell.exe",
            "PowerShell.exe",
        )
    )
    k = rng.randrange(7)
    if k == 0:  # ConfigMgr script / compliance item
        return f'{exe} -NoLogo -Noninteractive -NoProfile -ExecutionPolicy Bypass -File "C:\\Windows\\CCM\\SystemTemp\\{g1}.ps1"'
    if k == 1:  # Intune management extension
        return f'{exe} -NoProfile -executionPolicy bypass -file  "C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\{g1}_{g2}.ps1"'
    if k == 2:  # Intune proactive remediation
        return f'{exe} -NoProfile -ExecutionPolicy Bypass -File "C:\\Windows\\IMECache\\HealthScripts\\{g1}_{rng.randint(1, 9)}\\{rng.choice(("detect", "remediate"))}.ps1"'
    if k == 3:  # Azure VM custom script extension
        return f"{exe} -ExecutionPolicy Unrestricted -File C:\\Packages\\Plugins\\Microsoft.Compute.CustomScriptExtension\\1.10.{rng.randint(10, 18)}\\Downloads\\0\\{rng.choice(v.WORDS)}.ps1"
    if k == 4:  # monitoring agent plugin
        vendor = rng.choice(
            ("SolarWinds\\Orion", "Datadog\\Datadog Agent", "Zabbix Agent", "NSClient++")
        )
        return f'{exe} -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\Program Files\\{vendor}\\scripts\\check_{rng.choice(v.WORDS)}.ps1"'
    if k == 5:  # a scheduled task running the fleet's maintenance script
        return f"{exe} -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File {v.script_path(rng)}"
    return f"{exe} -ExecutionPolicy Bypass -NoProfile -NonInteractive -File {v.script_path(rng)} -Environment {rng.choice(('Prod', 'Test', 'Staging'))}"


def scheduled_maintenance_task(rng: Random) -> str:
    company = rng.choice(v.COMPANIES)
    task = f"{rng.choice(v.WORDS).title()} {rng.choice(('Nightly', 'Daily', 'Weekly', 'Hourly'))}"
    script = v.script_path(rng)
    hour, minute = rng.randint(0, 5), rng.choice((0, 15, 30, 45))
    k = rng.randrange(5)
    if k == 0:
        return (
            f'schtasks /create /tn "{company}\\{task}" /tr "powershell.exe -NoProfile -WindowStyle Hidden '
            f'-ExecutionPolicy Bypass -File {script}" /sc daily /st {hour:02d}:{minute:02d} /ru SYSTEM /f'
        )
    if k == 1:
        return (
            f"Register-ScheduledTask -TaskName '{task}' -TaskPath '\\{company}\\' -Action (New-ScheduledTaskAction "
            f"-Execute 'powershell.exe' -Argument '-NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File {script}') "
            f"-Trigger (New-ScheduledTaskTrigger -Daily -At {hour + 1}am) -User 'NT AUTHORITY\\SYSTEM' -RunLevel Highest -Force"
        )
    if k == 2:
        return f"Start-ScheduledTask -TaskPath '\\{company}\\' -TaskName '{task}'"
    if k == 3:
        return f"Get-ScheduledTask -TaskPath '\\{company}\\' | Get-ScheduledTaskInfo | Select-Object TaskName, LastRunTime, LastTaskResult"
    return f'schtasks /query /tn "{company}\\{task}" /v /fo list'


def local_accounts(rng: Random) -> str:
    user = v.domain_user(rng)
    k = rng.randrange(6)
    if k == 0:
        return "Get-LocalGroupMember -Group Administrators | Select-Object Name, PrincipalSource"
    if k == 1:
        return f"Add-LocalGroupMember -Group 'Remote Desktop Users' -Member '{user}'"
    if k == 2:
        return "Disable-LocalUser -Name Guest; Get-LocalUser | Where-Object Enabled | Select-Object Name, LastLogon"
    if k == 3:
        return f"$cred = Get-Credential -UserName '{user}' -Message 'Credentials for {v.host(rng)}'"
    if k == 4:
        return "Set-LocalUser -Name 'localadmin' -Password (Read-Host -AsSecureString 'New password') -PasswordNeverExpires $false"
    return f"Remove-LocalGroupMember -Group Administrators -Member '{user}' -ErrorAction SilentlyContinue"


def network_diagnostics(rng: Random) -> str:
    host = v.host(rng, fqdn=1.0)
    k = rng.randrange(8)
    if k == 0:
        return f"Test-Connection -ComputerName {host} -Count 4"
    if k == 1:
        return f"Resolve-DnsName {host} -Type A -Server {v.internal_ip(rng)}"
    if k == 2:
        return f"Test-NetConnection {host} -Port {rng.choice((80, 443, 445, 1433, 3389, 5985))}"
    if k == 3:
        return (
            "Get-NetIPConfiguration | Select-Object InterfaceAlias, IPv4Address, IPv4DefaultGateway"
        )
    if k == 4:
        return "Get-NetTCPConnection -State Listen | Sort-Object LocalPort | Select-Object LocalAddress, LocalPort, OwningProcess"
    if k == 5:
        return "ipconfig /flushdns; Clear-DnsClientCache; Register-DnsClient"
    if k == 6:
        return f"tracert -d {v.internal_ip(rng)}"
    return (
        "Get-NetAdapter | Where-Object Status -eq 'Up' | Select-Object Name, LinkSpeed, MacAddress"
    )


def file_share_admin(rng: Random) -> str:
    share = rng.choice(v.APPS) + rng.choice(("", "$", "-Data", "-Archive"))
    group = f"{rng.choice(v.NETBIOS)}\\{rng.choice(v.GROUPS)}"
    fs = v.host(rng, fqdn=1.0)
    k = rng.randrange(6)
    if k == 0:
        return f"New-SmbShare -Name '{share}' -Path 'D:\\Shares\\{share}' -FullAccess '{group}' -ReadAccess 'Everyone'"
    if k == 1:
        return f"Get-SmbOpenFile | Where-Object Path -like '*{share}*' | Close-SmbOpenFile -Force"
    if k == 2:
        return (
            f"$acl = Get-Acl 'D:\\Shares\\{share}'; $rule = New-Object System.Security.AccessControl.FileSystemAccessRule"
            f"('{group}', 'Modify', 'ContainerInherit,ObjectInherit', 'None', 'Allow'); $acl.AddAccessRule($rule); "
            f"Set-Acl 'D:\\Shares\\{share}' $acl"
        )
    if k == 3:
        return f"icacls 'D:\\Shares\\{share}' /grant '{group}:(OI)(CI)M' /T /C"
    if k == 4:
        return "Get-SmbSession | Select-Object ClientComputerName, ClientUserName, NumOpens"
    return f"New-PSDrive -Name {rng.choice('HKMPSTXYZ')} -PSProvider FileSystem -Root \\\\{fs}\\{share} -Persist"


def defender_admin(rng: Random) -> str:
    k = rng.randrange(7)
    if k == 0:
        return "Update-MpSignature -UpdateSource MicrosoftUpdateServer"
    if k == 1:
        return f"Start-MpScan -ScanType {rng.choice(('QuickScan', 'FullScan'))}"
    if k == 2:
        return "Get-MpComputerStatus | Select-Object AMServiceEnabled, AntivirusSignatureLastUpdated, RealTimeProtectionEnabled"
    if k == 3:
        # Vendor-documented exclusions for database files: benign, and exactly what attackers do too.
        return "Add-MpPreference -ExclusionPath 'D:\\SQLData', 'D:\\SQLLogs' -ExclusionProcess 'sqlservr.exe'"
    if k == 4:
        return f"Set-MpPreference -ScanScheduleDay Everyday -ScanScheduleTime 0{rng.randint(1, 5)}:00:00 -SignatureUpdateInterval 4"
    if k == 5:
        return "Get-MpThreatDetection | Select-Object -First 10 ThreatID, ProcessName, InitialDetectionTime"
    return '& "$env:ProgramFiles\\Windows Defender\\MpCmdRun.exe" -SignatureUpdate'


def dev_tooling(rng: Random) -> str:
    app, company = rng.choice(v.APPS), rng.choice(v.COMPANIES)
    k = rng.randrange(8)
    if k == 0:
        return f"Add-Type -AssemblyName System.IO.Compression.FileSystem; [System.IO.Compression.ZipFile]::ExtractToDirectory('C:\\Deploy\\{app}.zip', 'C:\\Apps\\{app}')"
    if k == 1:
        # A legitimate C# helper compiled with Add-Type.
        return (
            'Add-Type -TypeDefinition @"\nusing System;\npublic static class BuildInfo {\n'
            '    public static string Stamp() { return DateTime.UtcNow.ToString("yyyyMMddHHmm"); }\n}\n"@\n'
            f'$stamp = [BuildInfo]::Stamp(); Rename-Item C:\\Build\\{app}.zip "{app}_$stamp.zip"'
        )
    if k == 2:
        return f"[System.Reflection.Assembly]::LoadFrom('C:\\Program Files\\{company}\\{app}\\{company}.{app}.Core.dll') | Out-Null"
    if k == 3:
        return "[void][Reflection.Assembly]::LoadWithPartialName('System.Windows.Forms'); [System.Windows.Forms.MessageBox]::Show('Deployment finished')"
    if k == 4:
        return f"dotnet build .\\src\\{app}.sln -c Release; dotnet test .\\tests --no-build"
    if k == 5:
        return f"git -C C:\\src\\{app.lower()} pull --ff-only; & msbuild.exe C:\\src\\{app.lower()}\\{app}.sln /p:Configuration=Release /m"
    if k == 6:
        return f"Get-FileHash -Algorithm SHA256 C:\\Deploy\\{app}.zip | Select-Object -ExpandProperty Hash"
    return f"[Convert]::ToBase64String([IO.File]::ReadAllBytes('C:\\Certs\\{app.lower()}.cer')) | Set-Content C:\\Certs\\{app.lower()}.b64"


def virtualization_admin(rng: Random) -> str:
    vm = f"{rng.choice(v.ROLES)}-{rng.choice(v.SITES)}-{rng.randint(1, 250):03d}"
    k = rng.randrange(6)
    if k == 0:
        return (
            "Get-VM | Where-Object State -eq 'Running' | Select-Object Name, Uptime, MemoryAssigned"
        )
    if k == 1:
        return f"Checkpoint-VM -Name {vm} -SnapshotName 'pre-patch-{v.date(rng)}'"
    if k == 2:
        return f"Start-VM -Name {vm}; Wait-VM -Name {vm} -For Heartbeat -Timeout 300"
    if k == 3:
        return (
            f"Connect-VIServer -Server vcenter.{rng.choice(v.DOMAINS)} -Credential (Get-Credential)"
        )
    if k == 4:
        return f"Get-VM -Name {vm} | Get-Snapshot | Where-Object Created -lt (Get-Date).AddDays(-7) | Remove-Snapshot -Confirm:$false"
    return f"Move-VM -Name {vm} -DestinationHost {v.host(rng)} -IncludeStorage -DestinationStoragePath D:\\VMs\\{vm}"


def cloud_admin(rng: Random) -> str:
    first, last = rng.choice(v.FIRST), rng.choice(v.LAST)
    k = rng.randrange(6)
    if k == 0:
        return f"Connect-ExchangeOnline -UserPrincipalName {first}.{last}@example.com -ShowBanner:$false"
    if k == 1:
        return "Get-Mailbox -ResultSize Unlimited | Select-Object DisplayName, PrimarySmtpAddress | Export-Csv C:\\Reports\\mailboxes.csv -NoTypeInformation"
    if k == 2:
        return "Connect-MgGraph -Scopes 'User.Read.All','Group.Read.All' -NoWelcome; Get-MgUser -All | Measure-Object"
    if k == 3:
        return f"Connect-AzAccount -Identity; Get-AzVM -ResourceGroupName rg-{rng.choice(v.APPS).lower()}-prod -Status"
    if k == 4:
        return f"Set-AzContext -Subscription {v.guid(rng)}; Get-AzResource | Group-Object ResourceType | Sort-Object Count -Descending"
    return f"az login --identity; az storage blob upload-batch -d backups -s D:\\Exports --account-name st{rng.choice(v.APPS).lower()}"


def gpo_and_printing(rng: Random) -> str:
    host, printsrv = v.host(rng), v.host(rng, fqdn=1.0)
    k = rng.randrange(5)
    if k == 0:
        return "gpupdate /force"
    if k == 1:
        return f"Invoke-GPUpdate -Computer {host} -RandomDelayInMinutes 0 -Force"
    if k == 2:
        return f"Get-GPResultantSetOfPolicy -ReportType Html -Path C:\\Temp\\rsop_{v.date(rng, True)}.html"
    if k == 3:
        return f"Get-Printer -ComputerName {printsrv} | Where-Object PrinterStatus -ne 'Normal'"
    return f"Add-Printer -ConnectionName \\\\{printsrv}\\{rng.choice(('Floor2-Color', 'HR-Mono', 'Plotter', 'Finance-Laser'))}"


BENIGN_FAMILIES: dict[str, Callable[[Random], str]] = {
    "service_management": service_management,
    "system_inventory": system_inventory,
    "registry_settings": registry_settings,
    "package_install": package_install,
    "disk_cleanup": disk_cleanup,
    "log_rotation": log_rotation,
    "backup_job": backup_job,
    "windows_update": windows_update,
    "config_management": config_management,
    "module_import": module_import,
    "remoting": remoting,
    "ad_query": ad_query,
    "iis_admin": iis_admin,
    "sql_maintenance": sql_maintenance,
    "internal_health_check": internal_health_check,
    "artifact_download": artifact_download,
    "certificate_management": certificate_management,
    "event_log_query": event_log_query,
    "management_agent_launch": management_agent_launch,
    "scheduled_maintenance_task": scheduled_maintenance_task,
    "local_accounts": local_accounts,
    "network_diagnostics": network_diagnostics,
    "file_share_admin": file_share_admin,
    "defender_admin": defender_admin,
    "dev_tooling": dev_tooling,
    "virtualization_admin": virtualization_admin,
    "cloud_admin": cloud_admin,
    "gpo_and_printing": gpo_and_printing,
}
