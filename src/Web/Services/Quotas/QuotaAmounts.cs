namespace Platform.Web.Services.Quotas;

/// <summary>An amount of each resource a quota counts: what a user or group uses, or what a change would add.</summary>
public sealed record QuotaAmounts(int Vms = 0, int Vcpus = 0, long MemoryMiB = 0, long DiskBytes = 0, long ImageBytes = 0)
{
    public static readonly QuotaAmounts None = new();

    public static QuotaAmounts operator +(QuotaAmounts a, QuotaAmounts b) => new(
        a.Vms + b.Vms, a.Vcpus + b.Vcpus, a.MemoryMiB + b.MemoryMiB, a.DiskBytes + b.DiskBytes, a.ImageBytes + b.ImageBytes);

    public bool IsNone => Vms <= 0 && Vcpus <= 0 && MemoryMiB <= 0 && DiskBytes <= 0 && ImageBytes <= 0;
}

/// <summary>One quota with what its holder uses now, for the Host page and <c>GET /api/v1/quotas</c>.</summary>
/// <param name="HolderName">The user's name or the group's.</param>
public sealed record QuotaStatus(Data.ResourceQuota Quota, string HolderName, QuotaAmounts Used);
