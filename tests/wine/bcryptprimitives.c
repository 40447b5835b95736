/* ProcessPrng, which Rust's standard library imports from bcryptprimitives.dll on
 * Windows 10 and later. Wine 8.0 (Debian 12) has no such DLL, so the Wine test puts
 * this one on WINEPATH: the same random bytes through RtlGenRandom. Windows itself
 * ships the real DLL; this file is only for running the Windows build under Wine. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
