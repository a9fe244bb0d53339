using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackfillVmUpdatedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // VMs made before UpdatedAt existed were last changed when they were made, as far as anyone can tell.
            // Only rows still holding the column's default are touched, so running it late changes nothing real.
            migrationBuilder.Sql("UPDATE VirtualMachines SET UpdatedAt = CreatedAt WHERE UpdatedAt LIKE '0001-01-01%';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the column goes with the previous migration's Down.
        }
    }
}
