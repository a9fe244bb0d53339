namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// How well the gradient predictor (left + above − above-left, per channel) guesses a rectangle's pixels, from a
/// sample of them. It tells pictures from drawings the way TightVNC's "detect smooth image" does: in a photo most
/// pixels differ a little from the guess; in a drawing most are guessed exactly and the rest (edges) are far off.
/// </summary>
internal readonly record struct TightSmoothness(int Samples, int Exact, int MeanError, int MeanMissError)
{
    /// <summary>Pixels sampled: every few lines, every few pixels, so a 64K-pixel rectangle costs about this many.</summary>
    private const int TargetSamples = 1024;

    /// <summary>Too small to judge: a rectangle narrower or lower than this is never called smooth.</summary>
    public const int MinSide = 8;

    /// <summary>
    /// Photo-like: few pixels guessed exactly and the misses small — what JPEG keeps well and a palette cannot hold.
    /// <paramref name="threshold"/> is the largest mean miss (0–255 per channel) still called smooth.
    /// </summary>
    public bool IsPhotoLike(int threshold) => Samples > 0 && Exact * 2 < Samples && MeanMissError <= threshold;

    /// <summary>
    /// The gradient filter pays: the predictor is right on average within <paramref name="threshold"/>, so its
    /// residuals are small numbers that zlib codes in few bits.
    /// </summary>
    public bool SuitsGradient(int threshold) => Samples > 0 && MeanError <= threshold;

    public static TightSmoothness Measure(ScreenPixels screen, PixelRect rect)
    {
        if (rect.Width < MinSide || rect.Height < MinSide)
        {
            return default;
        }

        long pixels = (long)(rect.Width - 1) * (rect.Height - 1);
        int step = (int)Math.Max(1, Math.Sqrt(pixels / (double)TargetSamples));
        int samples = 0, exact = 0;
        long errorSum = 0, missSum = 0;
        for (int y = rect.Y + 1; y < rect.Bottom; y += step)
        {
            ReadOnlySpan<uint> above = screen.Line(rect.X, y - 1, rect.Width);
            ReadOnlySpan<uint> line = screen.Line(rect.X, y, rect.Width);
            // Start each sampled line at a different column, so vertical structure does not line up with the samples.
            for (int x = 1 + (y % step); x < rect.Width; x += step)
            {
                int error = 0;
                for (int shift = 0; shift <= 16; shift += 8)
                {
                    int left = (int)(line[x - 1] >> shift) & 0xFF;
                    int up = (int)(above[x] >> shift) & 0xFF;
                    int upLeft = (int)(above[x - 1] >> shift) & 0xFF;
                    int predicted = Math.Clamp(left + up - upLeft, 0, 255);
                    error = Math.Max(error, Math.Abs(((int)(line[x] >> shift) & 0xFF) - predicted));
                }

                samples++;
                errorSum += error;
                if (error == 0)
                {
                    exact++;
                }
                else
                {
                    missSum += error;
                }
            }
        }

        int misses = samples - exact;
        return new TightSmoothness(
            samples, exact, samples > 0 ? (int)(errorSum / samples) : 0, misses > 0 ? (int)(missSum / misses) : 0);
    }
}
