using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class SataDisks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Bus",
                table: "VmDisks",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                // Every disk before there was a choice was virtio-blk.
                defaultValue: "Virtio");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Bus",
                table: "VmDisks");
        }
    }
}
