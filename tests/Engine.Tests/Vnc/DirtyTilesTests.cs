using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class DirtyTilesTests
{
    private readonly DirtyTiles _tiles = new();

    public DirtyTilesTests() => _tiles.Resize(100, 50);   // 7 × 4 tiles, the last ones partial

    private List<PixelRect> Take(PixelRect clip)
    {
        var rects = new List<PixelRect>();
        _tiles.TakeRectangles(clip, rects);
        return rects;
    }

    [Fact]
    public void Marked_tiles_come_out_as_merged_rectangles_cut_to_the_screen()
    {
        _tiles.SetRect(new PixelRect(20, 10, 30, 30));   // tiles x 1–3, y 0–2
        _tiles.SetTile(6, 3);                             // the bottom-right corner tile: 4 × 2 pixels
        Take(new PixelRect(0, 0, 100, 50)).Should().Equal(new PixelRect(16, 0, 48, 48), new PixelRect(96, 48, 4, 2));
        _tiles.IsEmpty.Should().BeTrue("taken tiles are cleared");
    }

    [Fact]
    public void Only_tiles_inside_the_requested_area_are_taken()
    {
        _tiles.SetAll();
        Take(new PixelRect(0, 0, 20, 20)).Should().Equal(new PixelRect(0, 0, 32, 32));
        _tiles.IsSet(2, 0).Should().BeTrue();
        _tiles.AnySet(new PixelRect(0, 0, 32, 32)).Should().BeFalse();
    }

    [Fact]
    public void A_row_with_many_runs_goes_as_one_span()
    {
        _tiles.Resize(640, 16);
        for (int tx = 0; tx < 40; tx += 2)
        {
            _tiles.SetTile(tx, 0);
        }

        Take(new PixelRect(0, 0, 640, 16)).Should().Equal(new PixelRect(0, 0, 624, 16));
    }

    [Fact]
    public void Different_runs_in_consecutive_rows_stay_separate()
    {
        _tiles.SetTile(0, 0);
        _tiles.SetTile(1, 1);
        _tiles.SetTile(0, 2);
        _tiles.SetTile(0, 3);
        Take(new PixelRect(0, 0, 100, 50)).Should().BeEquivalentTo(
            [new PixelRect(0, 0, 16, 16), new PixelRect(16, 16, 16, 16), new PixelRect(0, 32, 16, 18)]);
    }
}
