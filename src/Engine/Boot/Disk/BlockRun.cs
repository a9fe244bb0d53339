namespace Platform.Engine.Boot.Disk;

/// <summary>
/// <paramref name="Count"/> blocks of a file from logical block <paramref name="Logical"/>, stored from physical block
/// <paramref name="Physical"/>; <paramref name="Zero"/> for an unwritten extent, which reads as zeros.
/// </summary>
internal readonly record struct BlockRun(long Logical, long Physical, long Count, bool Zero);
