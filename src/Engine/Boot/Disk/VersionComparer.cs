namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Compares version strings the way the Boot Loader Specification sorts entries (the UAPI version format, close to
/// rpm's): runs of digits compare as numbers, runs of letters as text, a number beats letters, '~' sorts before
/// anything (a pre-release), other characters only separate.
/// </summary>
internal sealed class VersionComparer : IComparer<string?>
{
    public static readonly VersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        string a = x ?? "", b = y ?? "";
        int i = 0, j = 0;
        while (true)
        {
            while (i < a.Length && !char.IsAsciiLetterOrDigit(a[i]) && a[i] != '~')
            {
                i++;
            }

            while (j < b.Length && !char.IsAsciiLetterOrDigit(b[j]) && b[j] != '~')
            {
                j++;
            }

            bool tildeA = i < a.Length && a[i] == '~', tildeB = j < b.Length && b[j] == '~';
            if (tildeA || tildeB)
            {
                if (!(tildeA && tildeB))
                {
                    return tildeA ? -1 : 1;
                }

                i++;
                j++;
                continue;
            }

            if (i >= a.Length || j >= b.Length)
            {
                return (i < a.Length ? 1 : 0) - (j < b.Length ? 1 : 0);
            }

            bool digits = char.IsAsciiDigit(a[i]);
            if (digits != char.IsAsciiDigit(b[j]))
            {
                return digits ? 1 : -1;
            }

            int startA = i, startB = j;
            Func<char, bool> same = digits ? char.IsAsciiDigit : char.IsAsciiLetter;
            while (i < a.Length && same(a[i]))
            {
                i++;
            }

            while (j < b.Length && same(b[j]))
            {
                j++;
            }

            var runA = a.AsSpan(startA, i - startA);
            var runB = b.AsSpan(startB, j - startB);
            int order;
            if (digits)
            {
                runA = runA.TrimStart('0');
                runB = runB.TrimStart('0');
                order = runA.Length != runB.Length ? runA.Length.CompareTo(runB.Length) : runA.SequenceCompareTo(runB);
            }
            else
            {
                order = runA.SequenceCompareTo(runB);
            }

            if (order != 0)
            {
                return Math.Sign(order);
            }
        }
    }
}
