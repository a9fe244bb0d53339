using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class NetworkVlan : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Vlan",
                table: "Networks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "Networks",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000e1"),
                column: "Vlan",
                value: null);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Vlan",
                table: "Networks");
        }
    }
}
