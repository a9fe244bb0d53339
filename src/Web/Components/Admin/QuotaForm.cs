using System.Globalization;
using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.Quotas;

namespace Platform.Web.Components.Admin;

/// <summary>
/// The quota page's form as text: each maximum typed as the user wants it (a count, or GiB for sizes; empty for no
/// limit), checked field by field before anything is saved, and the service's own refusal shown against its field.
/// </summary>
internal sealed class QuotaForm
{
    private const long BytesPerGiB = 1L << 30;
    private const long MiBPerGiB = 1024;

    public static readonly IReadOnlyList<(string Key, string Label)> Fields =
    [
        ("maxVms", "VMs"), ("maxVcpus", "vCPUs"), ("maxMemoryMiB", "Memory (GiB)"), ("maxDiskBytes", "Disk (GiB)"), ("maxImageBytes", "Images (GiB)"),
    ];

    private readonly Dictionary<string, string> _text = new();
    private readonly Dictionary<string, string> _errors = new();
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages => _messages;

    public string Text(string key) => _text.GetValueOrDefault(key, "");

    public void Set(string key, string? text)
    {
        _text[key] = text?.Trim() ?? "";
        _errors.Remove(key);
    }

    public bool HasError(string key) => _errors.ContainsKey(key);

    public string? Error(string key) => _errors.GetValueOrDefault(key);

    public static QuotaForm From(ResourceQuota? quota)
    {
        var form = new QuotaForm();
        if (quota is not null)
        {
            form._text["maxVms"] = Format(quota.MaxVms);
            form._text["maxVcpus"] = Format(quota.MaxVcpus);
            form._text["maxMemoryMiB"] = quota.MaxMemoryMiB is { } m ? Format(m / (double)MiBPerGiB) : "";
            form._text["maxDiskBytes"] = quota.MaxDiskBytes is { } d ? Format(d / (double)BytesPerGiB) : "";
            form._text["maxImageBytes"] = quota.MaxImageBytes is { } i ? Format(i / (double)BytesPerGiB) : "";
        }

        return form;
    }

    /// <summary>The quota the fields describe, for <paramref name="holder"/>; null (with each field's error set) when one is not a valid maximum.</summary>
    public ResourceQuota? ToQuota(QuotaHolder holder)
    {
        _errors.Clear();
        _messages.Clear();
        var quota = new ResourceQuota
        {
            UserId = holder.UserId, GroupId = holder.GroupId,
            MaxVms = (int?)Count("maxVms"), MaxVcpus = (int?)Count("maxVcpus"),
            MaxMemoryMiB = GiB("maxMemoryMiB", MiBPerGiB), MaxDiskBytes = GiB("maxDiskBytes", BytesPerGiB), MaxImageBytes = GiB("maxImageBytes", BytesPerGiB),
        };
        return _errors.Count == 0 ? quota : null;
    }

    /// <summary>Shows why the service refused the quota: against the field it names, or as a message.</summary>
    public void Refused(ServiceResult result)
    {
        foreach (var (key, messages) in result.Errors)
        {
            if (Fields.Any(f => f.Key == key))
            {
                _errors[key] = string.Join(" ", messages);
            }
            else
            {
                _messages.AddRange(messages);
            }
        }

        if (result.Errors.Count == 0 && result.Message is { } message)
        {
            _messages.Add(message);
        }
    }

    private long? Count(string key)
    {
        string text = Text(key);
        if (text.Length == 0)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            return value;
        }

        _errors[key] = $"A whole number, 0 or more (or empty for no limit); got \"{text}\".";
        return null;
    }

    private long? GiB(string key, long unitsPerGiB)
    {
        string text = Text(key);
        if (text.Length == 0)
        {
            return null;
        }

        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double gib) && gib < 1 << 30)
        {
            return (long)Math.Round(gib * unitsPerGiB);
        }

        _errors[key] = $"A size in GiB, 0 or more (0.5 is 512 MiB; empty for no limit); got \"{text}\".";
        return null;
    }

    private static string Format(long? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "";

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
