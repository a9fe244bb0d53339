namespace Platform.Web.Services;

/// <summary>How an operation of a service ended; the API maps it to a status code, the pages to a message.</summary>
public enum ServiceStatus
{
    Ok,
    NotFound,
    /// <summary>The input broke a rule: <see cref="ServiceResult.Errors"/> says which field and why.</summary>
    Invalid,
    /// <summary>The current state forbids it: someone else changed the VM, the image is in use, the VM runs.</summary>
    Conflict,
    /// <summary>The caller may not do this (a privilege the service checked itself, beside the endpoint's).</summary>
    Forbidden,
    /// <summary>An upload went past the size limit.</summary>
    TooLarge,
    /// <summary>The host's disk has no room for it.</summary>
    NoSpace,
    /// <summary>A service it needs cannot act now (the VM supervisor is not running).</summary>
    Unavailable,
}

/// <summary>The outcome of a service operation: a status, a message for the user, and field errors when invalid.</summary>
public class ServiceResult
{
    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();

    protected ServiceResult(ServiceStatus status, string? message, IReadOnlyDictionary<string, string[]>? errors)
    {
        Status = status;
        Message = message;
        Errors = errors ?? NoErrors;
    }

    public ServiceStatus Status { get; }

    public bool Succeeded => Status == ServiceStatus.Ok;

    /// <summary>Why it failed, in words for the user; null on success.</summary>
    public string? Message { get; }

    public IReadOnlyDictionary<string, string[]> Errors { get; }

    public static ServiceResult Ok() => new(ServiceStatus.Ok, null, null);

    public static ServiceResult Fail(ServiceStatus status, string message) => new(status, message, null);

    public static ServiceResult Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(ServiceStatus.Invalid, "Some values are not valid.", errors);
}

/// <summary>A <see cref="ServiceResult"/> that carries a value on success.</summary>
#pragma warning disable CA1000 // The factories read best where they are used: ServiceResult<Vm>.Fail(...).
public sealed class ServiceResult<T> : ServiceResult
{
    private ServiceResult(ServiceStatus status, T? value, string? message, IReadOnlyDictionary<string, string[]>? errors)
        : base(status, message, errors)
    {
        Value = value;
    }

    /// <summary>Set when <see cref="ServiceResult.Succeeded"/>.</summary>
    public T? Value { get; }

    public static ServiceResult<T> Ok(T value) => new(ServiceStatus.Ok, value, null, null);

    /// <summary>A success with a note for the user (what applied now and what at the next start).</summary>
    public static ServiceResult<T> Ok(T value, string? note) => new(ServiceStatus.Ok, value, string.IsNullOrEmpty(note) ? null : note, null);

    public static new ServiceResult<T> Fail(ServiceStatus status, string message) => new(status, default, message, null);

    /// <summary>The failure <paramref name="failure"/> as a result of this type (its message and field errors kept).</summary>
    public static ServiceResult<T> From(ServiceResult failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Succeeded
            ? throw new ArgumentException("Only a failure carries over without a value.", nameof(failure))
            : new(failure.Status, default, failure.Message, failure.Errors);
    }

    public static new ServiceResult<T> Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(ServiceStatus.Invalid, default, "Some values are not valid.", errors);
}
#pragma warning restore CA1000
