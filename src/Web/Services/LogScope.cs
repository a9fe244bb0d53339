using System.Collections;

namespace Platform.Web.Services;

/// <summary>
/// A logging scope (<c>ILogger.BeginScope</c>) of named values — <c>VmId</c>, <c>TaskId</c> — that structured log
/// providers record as properties and the console prints readably ("VM 3f…, task 12"), unlike a dictionary.
/// </summary>
internal sealed class LogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values;
    private readonly string _text;

    private LogScope(KeyValuePair<string, object?>[] values, string text)
    {
        _values = values;
        _text = text;
    }

    public static LogScope ForVm(Guid vmId) => new([new("VmId", vmId)], $"VM {vmId}");

    public static LogScope ForTask(long taskId, Guid? vmId) => vmId is { } vm
        ? new([new("TaskId", taskId), new("VmId", vm)], $"task {taskId}, VM {vm}")
        : new([new("TaskId", taskId)], $"task {taskId}");

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
