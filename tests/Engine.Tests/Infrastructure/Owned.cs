namespace Platform.Engine.Tests.Infrastructure;

/// <summary>What a test class made (disk images, guest trees, readers) and disposes when it ends, in the order made.</summary>
public sealed class Owned : IDisposable
{
    private readonly List<IDisposable> _items = [];

    /// <summary>Keeps <paramref name="item"/> until <see cref="Dispose"/>, and hands it back.</summary>
    public T Add<T>(T item)
        where T : IDisposable
    {
        _items.Add(item);
        return item;
    }

    public void Dispose()
    {
        foreach (var item in _items)
        {
            item.Dispose();
        }

        _items.Clear();
    }
}
