namespace Platform.Web.Tests.Infrastructure;

/// <summary>The smallest ISO 9660 images a CD-ROM drive takes: 16 system sectors, then a primary volume descriptor.</summary>
public static class IsoImages
{
    public static byte[] Make(string label)
    {
        var bytes = new byte[18 * 2048];
        int pvd = 16 * 2048;
        bytes[pvd] = 1; // primary volume descriptor
        "CD001"u8.CopyTo(bytes.AsSpan(pvd + 1));
        bytes[pvd + 6] = 1;
        bytes.AsSpan(pvd + 40, 32).Fill((byte)' ');
        System.Text.Encoding.ASCII.GetBytes(label).CopyTo(bytes.AsSpan(pvd + 40));
        bytes[pvd + 2048] = 255; // the set terminator
        "CD001"u8.CopyTo(bytes.AsSpan(pvd + 2048 + 1));
        return bytes;
    }
}
