using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Platform.Web.Tests.Fakes;

/// <summary>Every SQL command that reads rows (as EF sent it), for tests of how much a page or service queries.</summary>
public sealed class RecordingCommandInterceptor : DbCommandInterceptor
{
    private readonly ConcurrentQueue<string> _readers = new();

    public IReadOnlyList<string> Readers => [.. _readers];

    public void Clear() => _readers.Clear();

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        _readers.Enqueue(command.CommandText);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        _readers.Enqueue(command.CommandText);
        return ValueTask.FromResult(result);
    }
}
