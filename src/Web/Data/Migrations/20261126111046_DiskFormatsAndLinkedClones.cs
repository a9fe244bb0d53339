using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class DiskFormatsAndLinkedClones : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "LinkedClone",
                table: "VmDisks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Format",
                table: "Images",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "VirtualSizeBytes",
                table: "Images",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LinkedClone",
                table: "VmDisks");

            migrationBuilder.DropColumn(
                name: "Format",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "VirtualSizeBytes",
                table: "Images");
        }
    }
}
